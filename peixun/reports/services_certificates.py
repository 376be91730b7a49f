"""Credit statements: issue, sign and verify.

A statement is built from the teacher's standing as the credit engine reports it
(``credits.selectors.teacher_standing``; nothing is recomputed here) and the cycle's ledger
entries. What the statement asserts is serialised canonically — teacher, cycle, the date of the
figures, every ledger entry's id and amount, and the standing per category — and an HMAC of
that serialisation (keyed with ``SECRET_KEY``) is its *digest*. The QR code carries a token
signed with ``django.core.signing`` that holds the statement's serial number and digest.

Verification (public, no login) answers one of:

* ``valid``: the token's signature is good and the ledger still gives the same digest;
* ``outdated``: the token is genuine but the ledger (or the policy) changed since issue;
* ``invalid``: the signature is bad, or no such statement was issued with that digest.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import override

from peixun.core.audit import audit_record
from peixun.core.errors import DomainError, InvalidInput
from peixun.core.masking import mask_national_id
from peixun.core.roles import Role
from peixun.core.scopes import Actor, require
from peixun.credits import selectors as credit_selectors
from peixun.credits.engine import plain
from peixun.credits.models import SourceType
from peixun.roster.models import Teacher

from .models import IssuedCertificate

DIGEST_SALT = "peixun.reports.certificates.digest"
TOKEN_SALT = "peixun.reports.certificates.token"
SERIAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
LANGUAGE = "zh-hans"  # statements are documents in Chinese, whatever the requester's language

VALID, OUTDATED, INVALID = "valid", "outdated", "invalid"


def _reader() -> Actor:
    """The actor the statement's figures are computed as, once the caller's scope was checked.

    Issuing and verification compute through the same path so that, for an unchanged ledger,
    they give the same digest whoever asked.
    """
    return Actor(user=None, role=Role.PROVINCE)  # type: ignore[arg-type]


def new_serial() -> str:
    return "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(12))


def digest_of(payload: dict) -> str:
    """HMAC-SHA256 (keyed with SECRET_KEY) of the canonical JSON of ``payload``, base64url."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    mac = salted_hmac(DIGEST_SALT, canonical, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def make_token(serial: str, digest: str) -> str:
    return signing.Signer(salt=TOKEN_SALT).sign(f"{serial}.{digest}")


def read_token(token: str) -> tuple[str, str] | None:
    """(serial, digest) from a genuine token; None when the signature does not match."""
    try:
        value = signing.Signer(salt=TOKEN_SALT).unsign(token or "")
    except signing.BadSignature:
        return None
    serial, sep, digest = value.partition(".")
    return (serial, digest) if sep else None


# --- the credit statement's content ---------------------------------------------------------


@dataclass
class Statement:
    payload: dict  # what the digest covers
    snapshot: dict  # what the PDF and the verification page show
    digest: str


def check_cycle(rules, cycle: int) -> None:
    """A cycle of the active policy that has started."""
    if cycle < rules.start_year or (cycle - rules.start_year) % rules.length:
        raise InvalidInput(_("That credit cycle is not valid."), details={"field": "cycle"})
    if rules.cycle_bounds(cycle)[0] > timezone.localdate():
        raise InvalidInput(_("That credit cycle has not started yet."), details={"field": "cycle"})


def num(value: Decimal) -> str:
    return plain(Decimal(value).quantize(Decimal("0.01")))


def authority_for(teacher: Teacher) -> str:
    county = teacher.school.county
    return _("%(county)s Education Bureau") % {"county": county.full_name}


def credit_statement(teacher: Teacher, *, cycle: int | None = None, as_of: date | None = None) -> Statement:
    """The statement of ``teacher``'s credits in ``cycle`` (default: the current one) as of ``as_of``."""
    with override(LANGUAGE):  # the engine's labels and reasons go into the document in Chinese
        return _credit_statement(teacher, cycle=cycle, as_of=as_of)


def _credit_statement(teacher: Teacher, *, cycle: int | None, as_of: date | None) -> Statement:
    rules = credit_selectors.active_rules()
    today = timezone.localdate()
    if cycle is None:
        cycle = rules.cycle_of(as_of or today)
    check_cycle(rules, cycle)
    start, end = rules.cycle_bounds(cycle)
    if as_of is None:
        as_of = min(today, end)
    standing, entries = credit_selectors.teacher_standing(actor=_reader(), teacher=teacher, cycle=cycle, as_of=as_of)
    categories = [c for c in standing.categories if c.required or c.earned]
    status = "exempt" if standing.exempt else ("compliant" if standing.compliant else "not_met")
    payload = {
        "v": 1,
        "kind": IssuedCertificate.Kind.CREDIT,
        "teacher": teacher.pk,
        "national_id": teacher.national_id,
        "cycle": cycle,
        "as_of": as_of.isoformat(),
        "entries": sorted([e.id, num(e.amount)] for e in entries),
        "categories": [
            [c.code, num(c.earned), num(c.counted + c.transferred_in), num(c.required), num(c.missing)]
            for c in categories
        ],
        "total": (
            [num(standing.total.counted), num(standing.total.required), num(standing.total.missing)]
            if standing.total
            else None
        ),
        "status": status,
    }
    snapshot = _credit_snapshot(teacher, standing, entries, categories, status, cycle, as_of)
    return Statement(payload=payload, snapshot=snapshot, digest=digest_of(payload))


def _credit_snapshot(teacher, standing, entries, categories, status, cycle, as_of) -> dict:
    from peixun.catalog.models import Project

    projects = dict(
        Project.objects.filter(pk__in={e.project_id for e in entries if e.project_id}).values_list("pk", "name")
    )
    sources = dict(SourceType.choices)
    category_labels = {c.code: str(c.label) for c in standing.categories}
    by_source: dict[str, list] = defaultdict(lambda: [0, Decimal("0")])
    for e in entries:
        by_source[e.source_type][0] += 1
        by_source[e.source_type][1] += e.amount
    policy = credit_selectors.active_policy()
    status_labels = {
        "exempt": _("Exempt: the requirement does not apply; credits are still recorded"),
        "compliant": _("Requirements met"),
        "not_met": _("Requirements not yet met"),
    }
    return {
        "title": _("Teacher continuing-education credit statement"),
        "teacher": {
            "name": teacher.name,
            "national_id": mask_national_id(teacher.national_id),
            "school": teacher.school.name,
            "county": teacher.school.county.full_name,
        },
        "cycle": {
            "label": standing.cycle_label,
            "start": standing.cycle_start.isoformat(),
            "end": standing.cycle_end.isoformat(),
        },
        "as_of": as_of.isoformat(),
        "policy": policy.name if policy else "",
        "status": status,
        "status_label": status_labels[status],
        "categories": [
            {
                "code": c.code,
                "label": str(c.label),
                "earned": num(c.earned),
                "counted": num(c.counted + c.transferred_in),
                "required": num(c.required),
                "missing": num(c.missing),
                "met": c.met,
            }
            for c in categories
        ],
        "total": (
            {
                "label": str(standing.total.label),
                "counted": num(standing.total.counted),
                "required": num(standing.total.required),
                "missing": num(standing.total.missing),
            }
            if standing.total
            else None
        ),
        "sources": [
            {"label": str(sources.get(code, code)), "count": count, "amount": num(amount)}
            for code, (count, amount) in sorted(by_source.items())
        ],
        "entries": [
            {
                "date": e.earned_on.isoformat(),
                "source": str(sources.get(e.source_type, e.source_type)),
                "title": projects.get(e.project_id) or e.note or "",
                "category": category_labels.get(e.category, e.category),
                "amount": num(e.amount),
            }
            for e in entries
        ],
    }


# --- issuing --------------------------------------------------------------------------------


@transaction.atomic
def credit_statement_issue(
    *, actor: Actor, teacher: Teacher, cycle: int | None = None, as_of: date | None = None
) -> IssuedCertificate:
    """Issue (or re-issue unchanged) the credit statement of a teacher in the actor's scope.

    When the latest statement of that teacher and cycle has the same digest, it is returned
    as is (same serial, same QR); otherwise a new one is recorded. Either way it is audited.
    """
    require(actor, "reports.certificate.issue", teacher)
    teacher = Teacher.objects.select_related("school", "school__county", "school__county__parent").get(pk=teacher.pk)
    statement = credit_statement(teacher, cycle=cycle, as_of=as_of)
    cycle = statement.payload["cycle"]
    existing = (
        IssuedCertificate.objects.filter(
            teacher=teacher, kind=IssuedCertificate.Kind.CREDIT, cycle=cycle, digest=statement.digest
        )
        .order_by("-issued_at", "-pk")
        .first()
    )
    if existing is not None:
        audit_record(
            actor,
            "reports.certificate.reissue",
            existing,
            summary=f"{teacher.name} {existing.snapshot['cycle']['label']}: {existing.serial}",
        )
        return existing
    with override(LANGUAGE):
        authority = authority_for(teacher)
    issued = IssuedCertificate.objects.create(
        serial=new_serial(),
        kind=IssuedCertificate.Kind.CREDIT,
        teacher=teacher,
        cycle=cycle,
        as_of=date.fromisoformat(statement.payload["as_of"]),
        digest=statement.digest,
        snapshot=statement.snapshot,
        authority=authority,
        issued_by=actor.user if getattr(actor.user, "pk", None) else None,
        issued_role=actor.role,
    )
    audit_record(
        actor,
        "reports.certificate.issue",
        issued,
        summary=f"{teacher.name} {statement.snapshot['cycle']['label']}: {issued.serial}",
        after={"teacher": teacher.pk, "cycle": cycle, "digest": issued.digest},
    )
    return issued


def current_digest(issued: IssuedCertificate) -> str:
    """The digest the ledger gives today for what ``issued`` asserts."""
    if issued.kind == IssuedCertificate.Kind.CREDIT:
        return credit_statement(issued.teacher, cycle=issued.cycle, as_of=issued.as_of).digest
    from .services_class_certificates import class_certificate_statement  # noqa: PLC0415 (imports this module)

    return class_certificate_statement(issued.teacher, issued.project_class).digest


# --- verification ---------------------------------------------------------------------------


@dataclass
class Verification:
    state: str  # valid / outdated / invalid
    certificate: IssuedCertificate | None = None

    @property
    def message(self) -> str:
        return {
            VALID: _("Genuine: this document matches the credit ledger."),
            OUTDATED: _("Outdated: the ledger changed since this document was issued."),
            INVALID: _("Invalid signature: this document was not issued by the platform or has been altered."),
        }[self.state]

    def public_data(self) -> dict:
        """Only masked data: what the public verification page and API may show."""
        from peixun.core.masking import mask_name

        c = self.certificate
        if c is None:
            return {"state": self.state, "message": self.message}
        snap = c.snapshot
        return {
            "state": self.state,
            "message": self.message,
            "serial": c.serial,
            "kind": c.kind,
            "kind_label": str(c.get_kind_display()),
            "teacher_name": mask_name(snap["teacher"]["name"]),
            "national_id": snap["teacher"]["national_id"],
            "school": snap["teacher"]["school"],
            "authority": c.authority,
            "issued_on": timezone.localdate(c.issued_at).isoformat(),
            "as_of": c.as_of.isoformat(),
            "cycle": snap.get("cycle", {}).get("label", ""),
            "status_label": snap.get("status_label", ""),
            "categories": [
                {k: cat[k] for k in ("label", "counted", "required", "missing")} for cat in snap.get("categories", [])
            ],
            "class_name": " ".join(filter(None, [snap.get("class", {}).get(k, "") for k in ("project", "name")])),
            "credits": snap.get("class", {}).get("credits", ""),
        }


def verify_token(token: str) -> Verification:
    """Check a statement's QR token against the ledger (no login; shows masked data only)."""
    parsed = read_token(token)
    if parsed is None:
        return Verification(INVALID)
    serial, digest = parsed
    issued = (
        IssuedCertificate.objects.select_related("teacher", "teacher__school", "project_class")
        .filter(serial=serial, digest=digest)
        .first()
    )
    if issued is None:
        return Verification(INVALID)
    try:
        current = current_digest(issued)
    except DomainError:  # e.g. the active policy no longer has that cycle: the document no longer holds
        return Verification(OUTDATED, issued)
    return Verification(VALID if current == issued.digest else OUTDATED, issued)


# --- batches --------------------------------------------------------------------------------

BATCH_JOB_KIND = "certificates"


@transaction.atomic
def certificate_batch_start(*, actor: Actor, school, cycle: int | None = None, base_url: str):
    """Start the background job that issues every in-post teacher's statement of a school as one zip."""
    from peixun.core.services import job_create

    from .certificates_tasks import run_certificate_batch

    require(actor, "reports.certificate.batch", school)
    if cycle is not None:
        check_cycle(credit_selectors.active_rules(), cycle)
    total = Teacher.objects.filter(school=school, status=Teacher.Status.ACTIVE).count()
    if not total:
        raise InvalidInput(_("This school has no teachers in post."), details={"field": "school"})
    job = job_create(
        owner=actor.user,
        kind=BATCH_JOB_KIND,
        title=_("Credit statements of %(school)s (%(count)s teachers)") % {"school": school.name, "count": total},
        params={"grant_id": actor.grant.pk, "school_id": school.pk, "cycle": cycle, "base_url": base_url},
        total=total,
    )
    audit_record(
        actor,
        "reports.certificate.batch",
        school,
        summary=f"{school.name}: {total}",
        after={"job": job.pk, "cycle": cycle},
    )
    transaction.on_commit(lambda: run_certificate_batch.enqueue(job_id=job.pk))
    return job
