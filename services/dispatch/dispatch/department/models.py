"""Departments per site (engineering, cleaning, greening, security, lift, ...) and how categories route to them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.database import Base

# The routing rule with this category names the site's default department (categories are ``[a-z_]+``).
DEFAULT_CATEGORY = "*"


class Department(Base):
    __tablename__ = "departments"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)  # a subject token: engineering, lift, ...
    name: Mapped[str] = mapped_column(String(200))


class RoutingRule(Base):
    """``category -> department`` at one site; the rule for ``DEFAULT_CATEGORY`` catches the rest."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        ForeignKeyConstraint(["site", "department_code"], ["departments.site", "departments.code"]),
    )
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    department_code: Mapped[str] = mapped_column(String(64))


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    site: str
    code: str
    name: str
    # The categories routed to this department, and whether it takes what no rule names.
    categories: list[str]
    default: bool
