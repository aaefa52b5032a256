"""A small external task worker client written against Camunda 7's documented REST shapes
(POST {base}/external-task/fetchAndLock, …/{id}/complete, /failure, /extendLock, /bpmnError): what a
worker built for Camunda sends, with only its base URL pointing at Lotse. And what an operator's tool
sends to read and administer the tasks (GET {base}/external-task, /count, /{id}; PUT /{id}/retries,
/{id}/priority)."""


class CamundaWorker:
    def __init__(self, http, base_url, worker_id, token):
        self.http, self.base, self.worker_id = http, base_url.rstrip("/"), worker_id
        self.headers = {"Authorization": f"Bearer {token}"}

    def _post(self, path, body):
        return self._send("post", path, json=body)

    def _send(self, method, path, **kw):
        from flask import g
        for name in list(vars(g)):
            g.pop(name, None)
        return getattr(self.http, method)(f"{self.base}{path}", headers=self.headers, **kw)

    def query(self, **params):
        return self._send("get", "/external-task", query_string=params)

    def count(self, **params):
        return self._send("get", "/external-task/count", query_string=params)

    def task(self, task_id):
        return self._send("get", f"/external-task/{task_id}")

    def set_retries(self, task_id, retries):
        return self._send("put", f"/external-task/{task_id}/retries", json={"retries": retries})

    def set_priority(self, task_id, priority):
        return self._send("put", f"/external-task/{task_id}/priority", json={"priority": priority})

    def fetch_and_lock(self, topic, lock_duration, variables=None, max_tasks=1):
        topic_request = {"topicName": topic, "lockDuration": lock_duration}
        if variables is not None:
            topic_request["variables"] = variables
        return self._post("/external-task/fetchAndLock", {
            "workerId": self.worker_id, "maxTasks": max_tasks, "usePriority": True,
            "topics": [topic_request]})

    def complete(self, task_id, variables):
        return self._post(f"/external-task/{task_id}/complete", {
            "workerId": self.worker_id,
            "variables": {name: {"value": value, "type": _type(value)} for name, value in variables.items()}})

    def handle_failure(self, task_id, message, details, retries, retry_timeout):
        return self._post(f"/external-task/{task_id}/failure", {
            "workerId": self.worker_id, "errorMessage": message, "errorDetails": details,
            "retries": retries, "retryTimeout": retry_timeout})

    def extend_lock(self, task_id, new_duration):
        return self._post(f"/external-task/{task_id}/extendLock", {"workerId": self.worker_id,
                                                                   "newDuration": new_duration})

    def bpmn_error(self, task_id, code, message=None):
        return self._post(f"/external-task/{task_id}/bpmnError", {"workerId": self.worker_id, "errorCode": code,
                                                                  "errorMessage": message})


def _type(value):
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Double"
    return "String"
