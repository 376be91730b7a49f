"""Shared vocabularies (学段, 学科, 学科类别, 职称 ...) used across apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    KINDERGARTEN = "kg", _("Kindergarten")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior secondary")
    SENIOR = "senior", _("Senior secondary")
    VOCATIONAL = "vocational", _("Secondary vocational")
    SPECIAL = "special", _("Special education")


class SubjectCategory(models.TextChoices):
    """学科类别: the unit in which institutions are qualified."""

    LANGUAGE = "language", _("Languages and literature")
    MATH = "math", _("Mathematics")
    SCIENCE = "science", _("Science")
    HUMANITIES = "humanities", _("Humanities and social studies")
    ARTS_PE = "arts_pe", _("Arts and physical education")
    IT = "it", _("Information technology")
    MORAL_PSY = "moral_psy", _("Moral education and mental health")
    PRESCHOOL = "preschool", _("Preschool education")
    SPECIAL_ED = "special_ed", _("Special education")
    LEADERSHIP = "leadership", _("School leadership")
    GENERAL = "general", _("General (ethics, pedagogy)")


class Subject(models.TextChoices):
    CHINESE = "chinese", _("Chinese")
    MATH = "math", _("Mathematics")
    ENGLISH = "english", _("English")
    PHYSICS = "physics", _("Physics")
    CHEMISTRY = "chemistry", _("Chemistry")
    BIOLOGY = "biology", _("Biology")
    SCIENCE = "science", _("Science")
    HISTORY = "history", _("History")
    GEOGRAPHY = "geography", _("Geography")
    POLITICS = "politics", _("Morality and law / politics")
    MUSIC = "music", _("Music")
    ART = "art", _("Fine arts")
    PE = "pe", _("Physical education and health")
    IT = "it", _("Information technology")
    LABOUR = "labour", _("Labour education")
    PSYCHOLOGY = "psychology", _("Mental health")
    PRESCHOOL = "preschool", _("Preschool education")
    SPECIAL = "special", _("Special education")
    MANAGEMENT = "management", _("Management")
    OTHER = "other", _("Other")


SUBJECT_CATEGORY = {
    Subject.CHINESE: SubjectCategory.LANGUAGE,
    Subject.ENGLISH: SubjectCategory.LANGUAGE,
    Subject.MATH: SubjectCategory.MATH,
    Subject.PHYSICS: SubjectCategory.SCIENCE,
    Subject.CHEMISTRY: SubjectCategory.SCIENCE,
    Subject.BIOLOGY: SubjectCategory.SCIENCE,
    Subject.SCIENCE: SubjectCategory.SCIENCE,
    Subject.HISTORY: SubjectCategory.HUMANITIES,
    Subject.GEOGRAPHY: SubjectCategory.HUMANITIES,
    Subject.POLITICS: SubjectCategory.MORAL_PSY,
    Subject.MUSIC: SubjectCategory.ARTS_PE,
    Subject.ART: SubjectCategory.ARTS_PE,
    Subject.PE: SubjectCategory.ARTS_PE,
    Subject.IT: SubjectCategory.IT,
    Subject.LABOUR: SubjectCategory.GENERAL,
    Subject.PSYCHOLOGY: SubjectCategory.MORAL_PSY,
    Subject.PRESCHOOL: SubjectCategory.PRESCHOOL,
    Subject.SPECIAL: SubjectCategory.SPECIAL_ED,
    Subject.MANAGEMENT: SubjectCategory.LEADERSHIP,
    Subject.OTHER: SubjectCategory.GENERAL,
}


class Title(models.TextChoices):
    """专业技术职务 (职称), ordered from lowest to highest rank."""

    NONE = "none", _("No title")
    JUNIOR = "junior", _("Junior title (二级/初级)")
    INTERMEDIATE = "intermediate", _("Intermediate title (一级/中级)")
    ASSOCIATE_SENIOR = "assoc_senior", _("Associate senior title (副高级)")
    SENIOR = "senior", _("Senior title (正高级)")


TITLE_RANK = {Title.NONE: 0, Title.JUNIOR: 1, Title.INTERMEDIATE: 2, Title.ASSOCIATE_SENIOR: 3, Title.SENIOR: 4}


def join_codes(codes) -> str:
    """Multi-valued code fields are stored as ',a,b,' so ``__contains=',a,'`` works on every database."""
    codes = [c for c in codes if c]
    return "," + ",".join(sorted(set(codes))) + "," if codes else ""


def split_codes(value: str) -> list[str]:
    return [c for c in (value or "").split(",") if c]


def labels(choices, value: str) -> str:
    mapping = dict(choices.choices)
    return "、".join(str(mapping.get(c, c)) for c in split_codes(value))


class TrainingLevel(models.TextChoices):
    """培训层次: also says which bureau reviews and publishes the project."""

    NATIONAL = "national", _("National")
    PROVINCIAL = "provincial", _("Provincial")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    SCHOOL = "school", _("School")


class TrainingFormat(models.TextChoices):
    FACE_TO_FACE = "face", _("Face to face")
    ONLINE = "online", _("Online")
    BLENDED = "blended", _("Blended")


class TrainingField(models.TextChoices):
    """培训领域."""

    ETHICS = "ethics", _("Professional ethics and literacy")
    SUBJECT_TEACHING = "subject_teaching", _("Subject teaching")
    MORAL_EDUCATION = "moral_education", _("Class management and moral education")
    MENTAL_HEALTH = "mental_health", _("Mental health education")
    IT_APPLICATION = "it_application", _("Information technology application")
    SCIENCE_LAB = "science_lab", _("Science and laboratory teaching")
    LABOUR = "labour", _("Labour education")
    LEADERSHIP = "leadership", _("School leadership and management")
    RESEARCH = "research", _("Educational research")
    GENERAL = "general", _("General literacy")


class CreditCategory(models.TextChoices):
    """Credit categories the policies know. Preset A uses 统筹/自主; preset B the others."""

    TONGCHOU = "tongchou", _("Coordinated training (统筹培训)")
    ZIZHU = "zizhu", _("School-organised training (自主培训)")
    CENTRALISED = "centralised", _("Centralised training (集中培训)")
    SCHOOL_BASED = "school_based", _("School-based training (校本研修)")
    PROBATION = "probation", _("New-teacher probation training")
    PRINCIPAL_QUALIFICATION = "principal_qual", _("New principals' qualification training")
