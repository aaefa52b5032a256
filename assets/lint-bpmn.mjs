#!/usr/bin/env node
// Headless bpmnlint for Lotse diagrams (bpmn-moddle + camunda-bpmn-moddle).
//
//   node assets/lint-bpmn.mjs bpmn/*.bpmn          # files
//   node assets/lint-bpmn.mjs bpmn/                # every *.bpmn under a folder
//   node assets/lint-bpmn.mjs --json bpmn/         # machine-readable report
//   node assets/lint-bpmn.mjs --config other.bpmnlintrc file.bpmn
//
// Rules come from the repository's .bpmnlintrc (bpmnlint:recommended), the
// same configuration that is bundled into the modeler.
//
// Exit codes: 0 no errors (warnings allowed), 1 at least one error (lint
// error, unreadable or unparsable file), 2 usage error.

import { createRequire } from 'node:module';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));

const { BpmnModdle } = require('bpmn-moddle');
const Linter = require('bpmnlint/lib/linter');
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');
const camundaModdle = require('camunda-bpmn-moddle/resources/camunda.json');

function usage(message) {
  if (message) {
    console.error(message);
  }
  console.error('usage: node assets/lint-bpmn.mjs [--json] [--config FILE] FILE_OR_DIR...');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { json: false, config: path.join(ROOT, '.bpmnlintrc'), inputs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') {
      opts.json = true;
    } else if (arg === '--config' || arg === '-c') {
      opts.config = argv[++i] || usage('--config needs a file');
    } else if (arg.startsWith('--config=')) {
      opts.config = arg.slice('--config='.length);
    } else if (arg === '--help' || arg === '-h') {
      usage();
    } else if (arg.startsWith('-') && arg !== '-') {
      usage(`unknown option ${arg}`);
    } else {
      opts.inputs.push(arg);
    }
  }
  if (!opts.inputs.length) {
    usage('no files given');
  }
  return opts;
}

async function expand(input) {
  let info;
  try {
    info = await stat(input);
  } catch (e) {
    return [ input ]; // reported as unreadable below
  }
  if (!info.isDirectory()) {
    return [ input ];
  }
  const out = [];
  for (const entry of (await readdir(input, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(input, entry.name);
    if (entry.isDirectory()) {
      out.push(...await expand(full));
    } else if (entry.name.endsWith('.bpmn')) {
      out.push(full);
    }
  }
  return out;
}

function pathSuffix(report) {
  if (!report.path || !report.path.length) {
    return '';
  }
  return '#' + report.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
}

async function lintFile(file, linter, moddle) {
  const result = { file, problems: [] };
  let xml;
  try {
    xml = await readFile(file, 'utf8');
  } catch (err) {
    result.problems.push({ id: '', category: 'error', message: `cannot read file: ${err.message}`, rule: 'read' });
    return result;
  }
  let root;
  try {
    const parsed = await moddle.fromXML(xml, 'bpmn:Definitions');
    root = parsed.rootElement;
    for (const warning of parsed.warnings || []) {
      result.problems.push({
        id: (warning.element && warning.element.id) || '',
        category: 'warn',
        message: `import: ${warning.message.split('\n')[0]}`,
        rule: 'import'
      });
    }
  } catch (err) {
    result.problems.push({ id: '', category: 'error', message: `cannot parse BPMN: ${err.message.split('\n')[0]}`, rule: 'parse' });
    return result;
  }
  const reports = await linter.lint(root);
  for (const [ rule, entries ] of Object.entries(reports)) {
    for (const report of entries) {
      result.problems.push({
        id: (report.id || '') + pathSuffix(report),
        elementId: report.id || '',
        category: report.category,
        message: report.message,
        rule
      });
    }
  }
  return result;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));

  let config;
  try {
    config = JSON.parse(await readFile(opts.config, 'utf8'));
  } catch (err) {
    usage(`cannot read bpmnlint config ${opts.config}: ${err.message}`);
  }

  // A fresh Linter (and moddle) per file: bpmnlint caches rule instances per
  // Linter, and some rules keep state between runs (e.g. no-duplicate-sequence-flows).
  const resolver = new NodeResolver({ require });
  const newLinter = () => new Linter({ config, resolver });
  const newModdle = () => new BpmnModdle({ camunda: camundaModdle });

  const files = [];
  for (const input of opts.inputs) {
    files.push(...await expand(input));
  }
  if (!files.length) {
    usage('no .bpmn files found');
  }

  const results = [];
  for (const file of files) {
    results.push(await lintFile(file, newLinter(), newModdle()));
  }

  let errors = 0;
  let warnings = 0;
  for (const r of results) {
    for (const p of r.problems) {
      if (p.category === 'error' || p.category === 'rule-error') {
        errors++;
      } else if (p.category === 'warn') {
        warnings++;
      }
    }
  }

  if (opts.json) {
    process.stdout.write(JSON.stringify({ errors, warnings, files: results }, null, 2) + '\n');
  } else {
    for (const r of results) {
      if (!r.problems.length) {
        console.log(`${r.file}: ok`);
        continue;
      }
      console.log(`${r.file}:`);
      for (const p of r.problems) {
        const level = p.category === 'warn' ? 'warning' : p.category;
        console.log(`  ${p.id || '-'}  ${level}  ${p.message}  (${p.rule})`);
      }
    }
    console.log(`\n${files.length} file(s): ${errors} error(s), ${warnings} warning(s)`);
  }
  process.exit(errors ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
