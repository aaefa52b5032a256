from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import JSONText, db

# Size classes by the EU SME definition (Recommendation 2003/361/EC), by headcount:
# the funder's figures count firms by these classes.
SIZE_CLASSES = (("micro", 10), ("small", 50), ("medium", 250))


def size_class(employees: int | None) -> str | None:
    if employees is None:
        return None
    for name, below in SIZE_CLASSES:
        if employees < below:
            return name
    return "large"


class Organisation(db.Model):
    """A Welcome Center (kind 'center') or a firm it serves (kind 'employer')."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))             # OrganisationKind
    name: Mapped[str] = mapped_column(String(200))
    # Short code of a center, used in case references (WC-AC-2026-00042).
    code: Mapped[str | None] = mapped_column(String(8), unique=True)
    # The center that serves an employer.
    center_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    region: Mapped[str | None] = mapped_column(String(100))
    # A center: the Kreise and kreisfreie Städte it serves (names from engine/kreise.py).
    areas: Mapped[list | None] = mapped_column(JSONText)
    # A firm: its Kreis (engine/kreise.py), legal form, sector and headcount.
    kreis: Mapped[str | None] = mapped_column(String(100))
    legal_form: Mapped[str | None] = mapped_column(String(50))
    sector: Mapped[str | None] = mapped_column(String(100))
    employees: Mapped[int | None] = mapped_column(Integer)
    # Address and contact data of either kind.
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    # A firm's Kümmerer:in: the person at the firm who looks after its international hires.
    kuemmerer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", use_alter=True, name="fk_organisation_kuemmerer_id_user"))

    center = relationship("Organisation", remote_side=[id])
    kuemmerer = relationship("User", foreign_keys=[kuemmerer_id])

    @property
    def size_class(self) -> str | None:
        return size_class(self.employees)

    def __repr__(self):
        return f"<Organisation {self.kind} {self.name!r}>"
