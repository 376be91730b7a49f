"""Deterministic demo data. ``seed_demo`` runs each app's ``demo.seed(ctx)`` in INSTALLED_APPS order.

An app adds demo data by defining ``peixun/<app>/demo.py`` with ``seed(ctx: DemoContext)``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬燕彬鑫斌宇浩凯健俊帆帅旭宁龙林欣怡晨雨婷雪琳晗睿博文思涵子轩一诺梓萱佳怡浩然宇航嘉欣雅静"

DEMO_PASSWORD = "Peixun@2024"


@dataclass
class DemoContext:
    rng: random.Random
    today: date
    scale: str = "demo"
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role label, username, note)
    data: dict = field(default_factory=dict)  # objects shared between apps' seed steps
    notes: list[str] = field(default_factory=list)  # lines printed after the logins (e.g. the demo terms)

    def chinese_name(self) -> str:
        given_len = 1 if self.rng.random() < 0.35 else 2
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(given_len))

    def login(self, role_label: str, username: str, note: str = "") -> None:
        self.logins.append((str(role_label), username, note))
