"""The catalog API: browsing, the project lifecycle, changes, quotas, rules, staff and experts."""

from datetime import date, datetime
from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import Id
from peixun.core.errors import InvalidInput
from peixun.core.masking import mask_phone
from peixun.orgs.models import Region
from peixun.orgs.selectors import institution_get
from peixun.terms.selectors import term_get

from . import rules, selectors, services
from .conversion import convert
from .models import Project, ProjectClass

router = Router(tags=["catalog"])


# --- schemas ------------------------------------------------------------------------------


class ClassOut(Schema):
    id: int
    project_id: Id
    number: int
    starts_on: date
    ends_on: date
    place: str
    capacity: int
    seats_taken: int
    seats_left: int
    waitlist_enabled: bool
    schedule: str
    schedule_published_at: datetime | None
    schedule_deadline: date
    schedule_published_late: bool


class LecturerOut(Schema):
    id: int
    name: str
    organisation: str
    title: str
    expertise: str
    topic: str = ""


class ProjectSummaryOut(Schema):
    """What every project listing shows; the project's institution is select_related."""

    id: int
    code: str
    name: str
    theme: str
    institution_name: str
    status: str
    level: str
    format: str
    field: str
    credits: Decimal
    credits_online: Decimal
    fee_total: Decimal
    target_stages: list[str]
    target_subjects: list[str]

    @staticmethod
    def resolve_institution_name(obj):
        return obj.institution.name

    @staticmethod
    def resolve_target_stages(obj):
        return obj.stage_list

    @staticmethod
    def resolve_target_subjects(obj):
        return obj.subject_list

    @staticmethod
    def resolve_leader_name(obj):
        return obj.leader.name if obj.leader_id else ""


class ProjectOut(ProjectSummaryOut):
    term_id: Id
    institution_id: Id
    region_id: Id
    subject_category: str
    credit_category: str
    credit_level: str
    days: int
    hours_offline: Decimal
    hours_online: Decimal
    goals: str
    content: str
    fee_training: Decimal
    fee_accommodation: Decimal
    fee_meals: Decimal
    target_region_ids: list[int]
    rural_only: bool
    other_conditions: str
    leader_id: Id | None
    leader_name: str
    is_b_certificate: bool
    is_order_project: bool
    return_reason: str
    submitted_at: datetime | None
    published_at: datetime | None
    deleted_at: datetime | None
    delete_reason: str

    @staticmethod
    def resolve_target_region_ids(obj):
        return [r.pk for r in obj.target_regions.all()]


class ProjectDetailOut(ProjectOut):
    classes: list[ClassOut]
    lecturers: list[LecturerOut]
    problems: list[str]

    @staticmethod
    def resolve_classes(obj):
        return list(obj.classes.all())

    @staticmethod
    def resolve_lecturers(obj):
        return [
            LecturerOut(
                id=link.lecturer.pk,
                name=link.lecturer.name,
                organisation=link.lecturer.organisation,
                title=link.lecturer.title,
                expertise=link.lecturer.expertise,
                topic=link.topic,
            )
            for link in obj.projectlecturer_set.all()
        ]

    @staticmethod
    def resolve_problems(obj):
        if obj.status not in rules.EDITABLE_STATUSES:
            return []
        return [p.message for p in rules.submission_problems(obj)]


class CatalogItemOut(ProjectSummaryOut):
    term_id: Id
    institution_id: Id
    class_count: int
    seats_left: int
    first_start: date | None
    last_end: date | None

    @staticmethod
    def resolve_seats_left(obj):
        return max(obj.seats_left, 0)


class CatalogDetailOut(ProjectSummaryOut):
    subject_category: str
    credit_category: str
    days: int
    hours_offline: Decimal
    hours_online: Decimal
    goals: str
    content: str
    fee_training: Decimal
    fee_accommodation: Decimal
    fee_meals: Decimal
    rural_only: bool
    other_conditions: str
    leader_name: str
    classes: list[ClassOut]
    lecturers: list[LecturerOut]

    @staticmethod
    def resolve_classes(obj):
        return list(obj.classes.all())

    @staticmethod
    def resolve_lecturers(obj):
        return ProjectDetailOut.resolve_lecturers(obj)


class ProjectFields(Schema):
    name: str | None = None
    theme: str | None = None
    field: str | None = None
    subject_category: str | None = None
    level: str | None = None
    region_id: Id | None = None
    credit_category: str | None = None
    credit_level: str | None = None
    format: str | None = None
    days: int | None = None
    hours_offline: Decimal | None = None
    hours_online: Decimal | None = None
    goals: str | None = None
    content: str | None = None
    fee_total: Decimal | None = None
    fee_training: Decimal | None = None
    fee_accommodation: Decimal | None = None
    fee_meals: Decimal | None = None
    target_stages: list[str] | None = None
    target_subjects: list[str] | None = None
    target_region_ids: list[Id] | None = None
    rural_only: bool | None = None
    other_conditions: str | None = None
    leader_id: Id | None = None
    is_b_certificate: bool | None = None


class ProjectIn(ProjectFields):
    term_id: Id
    name: str
    field: str
    subject_category: str
    level: str
    credit_category: str
    format: str
    days: int
    goals: str
    content: str


class ReasonIn(Schema):
    reason: str = ""


class NoteIn(Schema):
    note: str = ""


class DeleteIn(Schema):
    reason: str
    confirm: str


class CreditAttributesIn(Schema):
    credit_category: str
    credit_level: str = ""
    reason: str


class BulkIn(Schema):
    project_ids: list[Id]
    action: str
    reason: str = ""


class BulkFailure(Schema):
    id: int
    message: str


class BulkOut(Schema):
    done: list[int]
    failed: list[BulkFailure]


class CreditsPreviewOut(Schema):
    credits: Decimal
    credits_online: Decimal
    online_share_ok: bool
    hours_per_credit: Decimal
    hours_per_credit_online: Decimal
    policy_version: int  # 0: no credit policy is active (preset A applies)


class ClassIn(Schema):
    starts_on: date
    ends_on: date
    place: str
    capacity: int
    waitlist_enabled: bool = True


class ScheduleIn(Schema):
    schedule: str


class LecturerIn(Schema):
    name: str
    organisation: str
    title: str
    expertise: str
    phone: str
    email: str = ""
    topic: str = ""


class LecturerDbOut(Schema):
    id: int
    name: str
    organisation: str
    title: str
    expertise: str
    phone: str
    project_count: int
    check_count: int
    unconfirmed: int

    @staticmethod
    def resolve_phone(obj, context):
        return obj.phone if context["request"].actor.role != "institution" else mask_phone(obj.phone)


class SampleIn(Schema):
    count: int = 2


class CheckOut(Schema):
    id: int
    project_id: Id
    lecturer_id: Id
    lecturer_name: str
    result: str
    note: str
    drawn_at: datetime
    checked_at: datetime | None

    @staticmethod
    def resolve_lecturer_name(obj):
        return obj.lecturer.name


class CheckIn(Schema):
    result: str
    note: str = ""


class ChangeIn(Schema):
    kind: str
    reason: str
    proposed: dict
    class_id: Id | None = None


class ChangeOut(Schema):
    id: int
    project_id: Id
    project_name: str
    class_id: Id | None
    kind: str
    reason: str
    proposed: dict
    previous: dict
    is_major: bool
    status: str
    requested_at: datetime
    decided_at: datetime | None
    decision_note: str

    @staticmethod
    def resolve_project_name(obj):
        return obj.project.name

    @staticmethod
    def resolve_class_id(obj):
        return obj.project_class_id


class StaffOut(Schema):
    id: int
    name: str
    national_id: str
    title: str
    specialty: list[str]
    is_formal_employee: bool
    phone: str

    @staticmethod
    def resolve_specialty(obj):
        return obj.specialty_list


class StaffIn(Schema):
    name: str
    national_id: str
    title: str
    specialty: list[str]
    is_formal_employee: bool = True
    phone: str = ""


class StaffUpdate(Schema):
    name: str | None = None
    title: str | None = None
    specialty: list[str] | None = None
    is_formal_employee: bool | None = None
    phone: str | None = None


class QuotaOut(Schema):
    institution_id: Id
    institution_name: str
    institution_type: str
    limit: int
    used: int
    remaining: int
    is_default: bool


class QuotaIn(Schema):
    term_id: Id
    institution_id: Id
    limit: int


class RegionCapIn(Schema):
    term_id: Id
    region_id: Id
    limit: int | None


class RegionCapOut(Schema):
    region_id: Id
    region_name: str
    limit: int | None
    used: int


class EventOut(Schema):
    id: int
    project_id: Id
    project_name: str
    institution_name: str
    kind: str
    at: datetime
    note: str
    data: dict

    @staticmethod
    def resolve_project_name(obj):
        return obj.project.name

    @staticmethod
    def resolve_institution_name(obj):
        return obj.project.institution.name


# --- helpers --------------------------------------------------------------------------------


def _regions(ids: list[Id]) -> list[Region]:
    regions = list(Region.objects.filter(pk__in=ids))
    if len(regions) != len(set(ids)):
        raise InvalidInput(_("Unknown region."), details={"field": "target_region_ids"})
    return regions


def _project_kwargs(request, payload: ProjectFields, *, partial: bool) -> dict:
    data = payload.dict(exclude_unset=partial, exclude={"term_id"})
    if not partial:
        data = {k: v for k, v in data.items() if v is not None}
    if "region_id" in data:
        region_id = data.pop("region_id")
        data["region"] = get_object_or_404(Region, pk=region_id) if region_id else None
    if "target_region_ids" in data:
        data["target_regions"] = _regions(data.pop("target_region_ids") or [])
    if "leader_id" in data:
        leader_id = data.pop("leader_id")
        data["leader"] = selectors.staff_get(actor=request.actor, staff_id=leader_id) if leader_id else None
    for key in ("target_stages", "target_subjects"):
        if key in data and data[key] is None:
            data[key] = []
    return data


def _project(request, project_id: Id) -> Project:
    return selectors.project_get(actor=request.actor, project_id=project_id)


def _class(request, class_id: Id) -> ProjectClass:
    return selectors.class_get(actor=request.actor, class_id=class_id)


# --- browsing --------------------------------------------------------------------------------


@router.get("/projects", response=list[CatalogItemOut], summary="培训项目目录（已发布、进行中）")
@paginate(LimitOffsetPagination)
def catalog(
    request,
    q: str = "",
    term_id: Id | None = None,
    stage: str = "",
    subject: str = "",
    field: str = "",
    level: str = "",
    format: str = "",
    region_id: Id | None = None,
    institution_id: Id | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    seats_only: bool = False,
    matches_me: bool = False,
):
    teacher = None
    if matches_me and request.actor.teacher_id:
        from peixun.roster.models import Teacher

        teacher = Teacher.objects.select_related("school__county").get(pk=request.actor.teacher_id)
    qs = selectors.catalog_list(
        actor=request.actor,
        query=q.strip(),
        term_id=term_id,
        stage=stage,
        subject=subject,
        field=field,
        level=level,
        format=format,
        region_id=region_id,
        institution_id=institution_id,
        date_from=date_from,
        date_to=date_to,
        seats_only=seats_only,
        teacher=teacher,
    )
    return qs


@router.get("/projects/{project_id}", response=CatalogDetailOut, summary="培训项目详情（课表、收费、讲师、学分）")
def catalog_detail(request, project_id: Id):
    return selectors.catalog_get(actor=request.actor, project_id=project_id)


@router.get("/credits-preview", response=CreditsPreviewOut, summary="按生效的学分政策折算学分（申报表实时显示）")
def credits_preview(
    request,
    credit_category: str,
    level: str,
    format: str,
    hours_offline: Decimal = Decimal("0"),
    hours_online: Decimal = Decimal("0"),
    credit_level: str = "",
):
    hours_offline = services.hours_value(hours_offline, "hours_offline")
    hours_online = services.hours_value(hours_online, "hours_online")
    conversion = convert(
        category=credit_category,
        level=level,
        credit_level=credit_level,
        fmt=format,
        hours_offline=hours_offline,
        hours_online=hours_online,
    )
    return CreditsPreviewOut(
        credits=conversion.credits,
        credits_online=conversion.credits_online,
        online_share_ok=conversion.share_ok,
        hours_per_credit=conversion.hours_per_credit,
        hours_per_credit_online=conversion.hours_per_credit_online,
        policy_version=conversion.policy_version,
    )


# --- the lifecycle -----------------------------------------------------------------------------


@router.get("/manage/projects", response=list[ProjectOut], summary="项目管理列表（本机构项目 / 审核列表）")
@paginate(LimitOffsetPagination)
def manage_list(
    request,
    q: str = "",
    term_id: Id | None = None,
    status: str = "",
    institution_id: Id | None = None,
    level: str = "",
    format: str = "",
    responsible: bool = False,
):
    return selectors.project_list(
        actor=request.actor,
        query=q.strip(),
        term_id=term_id,
        status=status,
        institution_id=institution_id,
        level=level,
        format=format,
        responsible=responsible,
    ).prefetch_related("target_regions")


@router.post("/manage/projects", response={201: ProjectDetailOut}, summary="新建项目草稿（培训机构）")
def project_create(request, payload: ProjectIn):
    term = term_get(actor=request.actor, term_id=payload.term_id)
    project = services.project_create(
        actor=request.actor, term=term, **_project_kwargs(request, payload, partial=False)
    )
    return 201, _project(request, project.pk)


@router.get("/manage/projects/{project_id}", response=ProjectDetailOut, summary="项目详情（管理）")
def project_detail(request, project_id: Id):
    return _project(request, project_id)


@router.put("/manage/projects/{project_id}", response=ProjectDetailOut, summary="修改草稿或退回的项目")
def project_update(request, project_id: Id, payload: ProjectFields):
    project = _project(request, project_id)
    services.project_update(actor=request.actor, project=project, **_project_kwargs(request, payload, partial=True))
    return _project(request, project_id)


@router.post("/manage/projects/{project_id}/submit", response=ProjectOut, summary="申报（检查窗口、指标与全部规则）")
def project_submit(request, project_id: Id):
    return services.project_submit(actor=request.actor, project=_project(request, project_id))


@router.post("/manage/projects/{project_id}/withdraw", response=ProjectOut, summary="撤回申报")
def project_withdraw(request, project_id: Id, payload: ReasonIn):
    return services.project_withdraw(actor=request.actor, project=_project(request, project_id), reason=payload.reason)


@router.post("/manage/projects/{project_id}/approve", response=ProjectOut, summary="审核通过（负责的教育局）")
def project_approve(request, project_id: Id, payload: NoteIn):
    return services.project_approve(actor=request.actor, project=_project(request, project_id), note=payload.note)


@router.post("/manage/projects/{project_id}/return", response=ProjectOut, summary="退回修改（附理由）")
def project_return(request, project_id: Id, payload: ReasonIn):
    return services.project_return(actor=request.actor, project=_project(request, project_id), reason=payload.reason)


@router.post("/manage/projects/{project_id}/publish", response=ProjectOut, summary="发布")
def project_publish(request, project_id: Id):
    return services.project_publish(actor=request.actor, project=_project(request, project_id))


@router.post("/manage/review", response=BulkOut, summary="批量审核 / 退回 / 发布")
def bulk_review(request, payload: BulkIn):
    projects = [_project(request, pk) for pk in payload.project_ids]
    result = services.projects_bulk_review(
        actor=request.actor, projects=projects, action=payload.action, reason=payload.reason
    )
    return BulkOut(done=[p.pk for p in result.done], failed=[BulkFailure(id=p.pk, message=m) for p, m in result.failed])


@router.post("/manage/projects/{project_id}/start", response=ProjectOut, summary="开始培训")
def project_start(request, project_id: Id):
    return services.project_start(actor=request.actor, project=_project(request, project_id))


@router.post("/manage/projects/{project_id}/finish", response=ProjectOut, summary="培训结束")
def project_finish(request, project_id: Id):
    return services.project_finish(actor=request.actor, project=_project(request, project_id))


@router.post("/manage/projects/{project_id}/delete", response=ProjectOut, summary="删除已发布项目（软删除，附理由）")
def project_delete(request, project_id: Id, payload: DeleteIn):
    return services.project_delete(
        actor=request.actor, project=_project(request, project_id), reason=payload.reason, confirm=payload.confirm
    )


@router.post("/manage/projects/{project_id}/credit-attributes", response=ProjectOut, summary="更正学分类别")
def project_correct_credits(request, project_id: Id, payload: CreditAttributesIn):
    return services.project_correct_credits(
        actor=request.actor,
        project=_project(request, project_id),
        credit_category=payload.credit_category,
        credit_level=payload.credit_level,
        reason=payload.reason,
    )


# --- classes, schedules, lecturers ------------------------------------------------------------


@router.post("/manage/projects/{project_id}/classes", response={201: ClassOut}, summary="新增班期")
def class_add(request, project_id: Id, payload: ClassIn):
    return 201, services.class_add(actor=request.actor, project=_project(request, project_id), **payload.dict())


@router.put("/classes/{class_id}", response=ClassOut, summary="修改班期")
def class_update(request, class_id: Id, payload: ClassIn):
    return services.class_update(actor=request.actor, project_class=_class(request, class_id), **payload.dict())


@router.delete("/classes/{class_id}", response={204: None}, summary="删除草稿中的班期")
def class_remove(request, class_id: Id):
    services.class_remove(actor=request.actor, project_class=_class(request, class_id))
    return 204, None


@router.put("/classes/{class_id}/schedule", response=ClassOut, summary="发布班期详细课表")
def class_schedule(request, class_id: Id, payload: ScheduleIn):
    return services.class_schedule_publish(
        actor=request.actor, project_class=_class(request, class_id), schedule=payload.schedule
    )


@router.post("/manage/projects/{project_id}/lecturers", response={201: LecturerOut}, summary="录入授课专家")
def lecturer_add(request, project_id: Id, payload: LecturerIn):
    link = services.lecturer_add(actor=request.actor, project=_project(request, project_id), **payload.dict())
    lecturer = link.lecturer
    return 201, LecturerOut(
        id=lecturer.pk,
        name=lecturer.name,
        organisation=lecturer.organisation,
        title=lecturer.title,
        expertise=lecturer.expertise,
        topic=link.topic,
    )


@router.delete("/manage/projects/{project_id}/lecturers/{lecturer_id}", response={204: None}, summary="移除授课专家")
def lecturer_remove(request, project_id: Id, lecturer_id: Id):
    project = _project(request, project_id)
    lecturer = get_object_or_404(project.lecturers.all(), pk=lecturer_id)
    services.lecturer_remove(actor=request.actor, project=project, lecturer=lecturer)
    return 204, None


@router.get("/lecturers", response=list[LecturerDbOut], summary="培训专家库")
@paginate(LimitOffsetPagination)
def lecturers(request, q: str = ""):
    return selectors.lecturer_list(actor=request.actor, query=q.strip())


@router.post(
    "/manage/projects/{project_id}/lecturer-checks", response={201: list[CheckOut]}, summary="随机抽查授课专家"
)
def lecturer_sample(request, project_id: Id, payload: SampleIn):
    return 201, services.lecturer_sample(
        actor=request.actor, project=_project(request, project_id), count=payload.count
    )


@router.put("/lecturer-checks/{check_id}", response=CheckOut, summary="记录抽查结果")
def lecturer_check(request, check_id: Id, payload: CheckIn):
    check = selectors.check_get(actor=request.actor, check_id=check_id)
    return services.lecturer_check_record(actor=request.actor, check=check, result=payload.result, note=payload.note)


# --- changes after publication ---------------------------------------------------------------


@router.get("/change-requests", response=list[ChangeOut], summary="变更申请")
def change_requests(request, status: str = "", term_id: Id | None = None, responsible: bool = False):
    return list(
        selectors.change_request_list(actor=request.actor, status=status, term_id=term_id, responsible=responsible)[
            :500
        ]
    )


@router.post("/manage/projects/{project_id}/change-requests", response={201: ChangeOut}, summary="提交变更申请")
def change_request_create(request, project_id: Id, payload: ChangeIn):
    project = _project(request, project_id)
    project_class = get_object_or_404(project.classes.all(), pk=payload.class_id) if payload.class_id else None
    change = services.change_request_create(
        actor=request.actor,
        project=project,
        kind=payload.kind,
        reason=payload.reason,
        proposed=payload.proposed,
        project_class=project_class,
    )
    return 201, change


@router.post("/change-requests/{change_id}/approve", response=ChangeOut, summary="批准变更（通知已报名学员）")
def change_request_approve(request, change_id: Id, payload: NoteIn):
    change = selectors.change_request_get(actor=request.actor, change_id=change_id)
    return services.change_request_approve(actor=request.actor, change_request=change, note=payload.note)


@router.post("/change-requests/{change_id}/reject", response=ChangeOut, summary="驳回变更")
def change_request_reject(request, change_id: Id, payload: NoteIn):
    change = selectors.change_request_get(actor=request.actor, change_id=change_id)
    return services.change_request_reject(actor=request.actor, change_request=change, note=payload.note)


@router.get("/change-log", response=list[EventOut], summary="机构项目变动记录（省级）")
@paginate(LimitOffsetPagination)
def change_log(request, term_id: Id | None = None, institution_id: Id | None = None):
    return selectors.change_log(actor=request.actor, term_id=term_id, institution_id=institution_id)


@router.get("/late-schedules", response=list[ClassOut], summary="未按时公布课表的班期")
@paginate(LimitOffsetPagination)
def late_schedules(request, term_id: Id):
    term = term_get(actor=request.actor, term_id=term_id)
    return selectors.late_schedules(actor=request.actor, term=term)


# --- staff, quotas, caps, credit rules -------------------------------------------------------


@router.get("/staff", response=list[StaffOut], summary="本机构项目负责人名单")
@paginate(LimitOffsetPagination)
def staff(request, q: str = ""):
    return selectors.staff_list(actor=request.actor, query=q.strip())


@router.post("/staff", response={201: StaffOut}, summary="新增负责人")
def staff_create(request, payload: StaffIn):
    return 201, services.staff_create(actor=request.actor, **payload.dict())


@router.put("/staff/{staff_id}", response=StaffOut, summary="修改负责人")
def staff_update(request, staff_id: Id, payload: StaffUpdate):
    member = selectors.staff_get(actor=request.actor, staff_id=staff_id)
    return services.staff_update(actor=request.actor, staff=member, **payload.dict(exclude_unset=True))


@router.get("/quotas", response=list[QuotaOut], summary="机构申报指标（已用 / 剩余）")
def quotas(request, term_id: Id):
    term = term_get(actor=request.actor, term_id=term_id)
    return [
        QuotaOut(
            institution_id=u.institution.pk,
            institution_name=u.institution.name,
            institution_type=u.institution.type,
            limit=u.limit,
            used=u.used,
            remaining=u.remaining,
            is_default=u.is_default,
        )
        for u in selectors.quota_overview(actor=request.actor, term=term)
    ]


@router.put("/quotas", response=QuotaOut, summary="设置机构申报指标（省级）")
def quota_set(request, payload: QuotaIn):
    term = term_get(actor=request.actor, term_id=payload.term_id)
    institution = institution_get(actor=request.actor, institution_id=payload.institution_id)
    services.quota_set(actor=request.actor, term=term, institution=institution, limit=payload.limit)
    usage = rules.quota_usage(term, [institution])[0]
    return QuotaOut(
        institution_id=institution.pk,
        institution_name=institution.name,
        institution_type=institution.type,
        limit=usage.limit,
        used=usage.used,
        remaining=usage.remaining,
        is_default=usage.is_default,
    )


@router.get("/region-caps", response=list[RegionCapOut], summary="各地本地项目数上限")
def region_caps(request, term_id: Id):
    from peixun.orgs.selectors import region_list

    from .models import RegionCap

    term = term_get(actor=request.actor, term_id=term_id)
    regions = region_list(actor=request.actor).exclude(level=Region.Level.PROVINCE).order_by("path")
    caps = {c.region_id: c.limit for c in RegionCap.objects.filter(term=term)}
    return [
        RegionCapOut(region_id=r.pk, region_name=r.full_name, limit=caps.get(r.pk), used=rules.region_cap_used(term, r))
        for r in regions
    ]


@router.put("/region-caps", response=RegionCapOut, summary="设置本地项目数上限（市、县教育局）")
def region_cap_set(request, payload: RegionCapIn):
    from peixun.orgs.selectors import region_get

    term = term_get(actor=request.actor, term_id=payload.term_id)
    region = region_get(actor=request.actor, region_id=payload.region_id)
    cap = services.region_cap_set(actor=request.actor, term=term, region=region, limit=payload.limit)
    return RegionCapOut(
        region_id=region.pk,
        region_name=region.full_name,
        limit=cap.limit if cap else None,
        used=rules.region_cap_used(term, region),
    )
