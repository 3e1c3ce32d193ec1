"""template overrides in the sandboxed template language

Revision ID: 0003_template_language
Revises: 0002_outbox_trace_context
Create Date: 2026-12-01 04:00:00.000000

Overrides were ``str.format`` texts (``{ref}``); they become sandboxed Jinja (``{{ ref }}``). A stored text
whose placeholders are plain variable names is converted; one that uses attribute or item access
(``{ref.x}``), a format specification (``{ref:>100000000}``), a conversion, a name the template does not
have, or that does not parse, keeps its text and is flagged with the problem: the service then uses the
built-in text until the override is saved again (and checked).

Self-contained on purpose (a migration must not change when the service code does later): the variables
each template had at this revision are copied here.
"""
import re
import string
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = '0003_template_language'
down_revision = '0002_outbox_trace_context'
branch_labels = None
depends_on = None

VARIABLES: dict[str, tuple[str, ...]] = {
    "request.acknowledged": ("ref", "kind", "category"),
    "request.status_changed": ("ref", "status", "reason"),
    "request.reopened": ("ref", "reason"),
    "request.replied": ("ref", "message"),
    "workorder.assigned": ("ref", "department"),
    "workorder.status_changed": ("ref", "department", "status", "reason"),
    "workorder.completed": ("ref", "result"),
    "charge.recorded": ("ref", "item", "amount"),
    "survey.invitation": ("title", "link", "summary", "closes"),
    "broadcast.notice": ("title", "message", "site"),
    "broadcast.call_task": ("name", "phone", "unit", "title", "message"),
    "staff.request.timelimit": ("ref", "limit", "stage", "due", "category", "unit"),
    "staff.workorder.timelimit": ("ref", "work_order", "department", "limit", "stage", "due", "unit"),
    "staff.workorder.new": ("ref", "work_order", "department", "category", "priority", "unit"),
    "staff.complaint.valid": ("ref", "department", "category", "unit", "summary"),
}
SUBJECT_LENGTH = 200  # templates.subject is String(200)

_templates = sa.table(
    'templates', sa.column('site', sa.String()), sa.column('key', sa.String()), sa.column('language', sa.String()),
    sa.column('subject', sa.String()), sa.column('body', sa.Text()), sa.column('problem', sa.Text()),
    sa.column('problem_at', sa.DateTime(timezone=True)),
)


def convert(text: str, variables: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(the text in the new language, None) or (None, why it cannot be converted)."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return None, f"it does not parse ({exc})"
    parts = []
    for literal, field, spec, conversion in parsed:
        parts.append(literal.replace("{", "{{ '{' }}"))  # a literal brace ({{ in format syntax) stays one
        if field is None:
            continue
        written = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not field.isidentifier():
            return None, f"{written} uses attribute or item access"
        if spec or conversion:
            return None, f"{written} has a format specification or conversion"
        if field not in variables:
            return None, f"{written} is not one of the template's variables ({', '.join(variables)})"
        parts.append("{{ " + field + " }}")
    return "".join(parts), None


def _where(row: sa.Row) -> sa.ColumnElement[bool]:
    c = _templates.c
    return sa.and_(c.site == row.site, c.key == row.key, c.language == row.language)


def upgrade() -> None:
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('problem', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('problem_at', sa.DateTime(timezone=True), nullable=True))
    connection = op.get_bind()
    now = datetime.now(UTC)
    c = _templates.c
    for row in connection.execute(sa.select(c.site, c.key, c.language, c.subject, c.body)).all():
        variables = VARIABLES.get(row.key, ())
        body, problem = convert(row.body, variables)
        subject, subject_problem = convert(row.subject, variables) if row.subject else (None, None)
        if subject is not None and len(subject) > SUBJECT_LENGTH:
            subject, subject_problem = None, f"it is longer than {SUBJECT_LENGTH} characters once converted"
        if problem or subject_problem:
            why = f"body: {problem}" if problem else f"subject: {subject_problem}"
            connection.execute(_templates.update().where(_where(row)).values(
                problem=f"saved before the template check and cannot be converted to {{{{ name }}}} syntax: {why}",
                problem_at=now))
        else:
            connection.execute(_templates.update().where(_where(row)).values(body=body, subject=subject))


_BACK = re.compile(r"\{\{ (\w+) \}\}|\{\{ '\{' \}\}")


def _back(text: str) -> str:
    """``{{ name }}`` to ``{name}`` (other Jinja constructs are left as they are: they render literally)."""
    out, at = [], 0
    for match in _BACK.finditer(text):
        out.append(text[at:match.start()].replace("{", "{{").replace("}", "}}"))
        out.append("{" + match.group(1) + "}" if match.group(1) else "{{")
        at = match.end()
    out.append(text[at:].replace("{", "{{").replace("}", "}}"))
    return "".join(out)


def downgrade() -> None:
    connection = op.get_bind()
    c = _templates.c
    for row in connection.execute(sa.select(c.site, c.key, c.language, c.subject, c.body, c.problem)).all():
        if row.problem is None or row.problem.startswith("at send time"):
            connection.execute(_templates.update().where(_where(row)).values(
                body=_back(row.body), subject=_back(row.subject) if row.subject else None))
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.drop_column('problem_at')
        batch_op.drop_column('problem')
