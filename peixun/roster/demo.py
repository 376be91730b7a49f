from datetime import date, timedelta

from peixun.accounts.models import RoleGrant, User
from peixun.core.demo_accounts import demo_password_hash, demo_user
from peixun.core.roles import Role

from .importing import parse_row_values
from .models import Exemption, Teacher
from .synthetic import national_rows


def seed(ctx) -> None:
    schools = ctx.data["schools"]
    by_code = {s.code: s for s in schools}
    teachers = []
    for row in national_rows(ctx.rng, schools, ctx.data.get("teacher_count", 3000)):
        values = parse_row_values(row)
        values["school_id"] = by_code[values.pop("school_code")].pk
        teacher = Teacher(**values)
        if teacher.work_start:
            teacher.hire_date = teacher.work_start
            teacher.probation_end = teacher.work_start + timedelta(days=365)
        teacher.phone = f"13{ctx.rng.randint(100000000, 999999999)}"
        teachers.append(teacher)
    Teacher.objects.bulk_create(teachers, batch_size=1000)
    teachers = list(Teacher.objects.select_related("school").order_by("pk"))

    # Every demo teacher can sign in with the ID number and the demo password.
    password = demo_password_hash()
    users = [
        User(username=f"t{t.national_id}", display_name=t.name, password=password, must_change_password=False)
        for t in teachers
    ]
    User.objects.bulk_create(users, batch_size=1000)
    user_ids = dict(User.objects.filter(username__startswith="t").values_list("username", "pk"))
    for t in teachers:
        t.user_id = user_ids[f"t{t.national_id}"]
    Teacher.objects.bulk_update(teachers, ["user"], batch_size=1000)
    RoleGrant.objects.bulk_create(
        [RoleGrant(user_id=t.user_id, role=Role.TEACHER, school_id=t.school_id) for t in teachers], batch_size=1000
    )

    # The first teacher of each school is its principal: school-admin role besides the teacher role.
    first_school = schools[0]
    for school in schools:
        principal = next(t for t in teachers if t.school_id == school.pk)
        principal.post = Teacher.Post.PRINCIPAL
        principal.save(update_fields=["post"])
        RoleGrant.objects.create(user_id=principal.user_id, role=Role.SCHOOL, school=school)
    principal = next(t for t in teachers if t.school_id == first_school.pk)
    User.objects.filter(pk=principal.user_id).update(username="demo_principal")
    ctx.login(Role.SCHOOL.label, "demo_principal", f"{first_school.name}校长（兼教师角色）")
    demo_user("demo_school", f"{first_school.name}管理员", role=Role.SCHOOL, school=first_school)
    ctx.login(Role.SCHOOL.label, "demo_school", first_school.name)

    demo_teacher = next(t for t in teachers if t.school_id == first_school.pk and t.post != Teacher.Post.PRINCIPAL)
    User.objects.filter(pk=demo_teacher.user_id).update(username="demo_teacher")
    ctx.login(
        Role.TEACHER.label, "demo_teacher", f"{demo_teacher.name}，也可用身份证号 {demo_teacher.national_id} 登录"
    )
    ctx.data["teachers"] = teachers
    ctx.data["demo_teacher"] = demo_teacher

    # A few exemptions as the FAQ describes (Q20, Q21).
    for t, kind, reason in (
        (teachers[7], Exemption.Kind.ADMIN_DEPARTMENT, "在区教育局工作的持证人员"),
        (teachers[19], Exemption.Kind.SECONDED, "借调至市教育局"),
    ):
        Exemption.objects.create(teacher=t, kind=kind, reason=reason, starts_on=date(ctx.today.year, 1, 1))
