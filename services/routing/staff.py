"""Staff accounts: who may sign in, with which roles, and the `minqing staff` command."""

from __future__ import annotations

import argparse
import base64
import functools
import getpass
import hashlib
import hmac
import re
import secrets
import sys
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.kernel import migrations
from services.kernel.auth import ROLES, Role, Staff
from services.kernel.clock import utcnow
from services.kernel.config import Settings
from services.kernel.db import Database
from services.kernel.language import InvalidValue
from services.routing.catalogue import load_catalogue, sync_catalogue
from services.routing.models import Department, StaffMember

# scrypt at 16 MiB and about 50 ms a check: cheap for a sign-in, dear for a guesser.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class StaffError(InvalidValue):
    """An account cannot be made or changed as asked."""


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$digest`, with a fresh random salt unless one is given."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024**2, dklen=32
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@functools.lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def roles_of(member: StaffMember) -> frozenset[Role]:
    return frozenset(r for r in ROLES if r in member.roles.split())


def as_staff(member: StaffMember) -> Staff:
    """What the member's token says about them."""
    return Staff(
        staff_id=str(member.id),
        name=member.name,
        roles=roles_of(member),
        department_code=member.department_code,
        unit=member.unit,
    )


def authenticate(session: Session, username: str, password: str) -> StaffMember | None:
    """The active member with this username and password, else None.

    An unknown username costs the same scrypt as a wrong password, so timing does not tell
    which usernames exist.
    """
    member = session.scalars(
        select(StaffMember).where(StaffMember.username == normalise_username(username))
    ).first()
    if member is None:
        password_matches(password, _decoy_hash())
        return None
    if not password_matches(password, member.password_hash) or not member.active:
        return None
    return member


@dataclass(frozen=True)
class NewStaff:
    """An account as an administrator asks for it."""

    username: str
    name: str
    roles: Sequence[str]
    password: str
    department_code: str | None = None
    unit: str | None = None


def check_new_staff(new: NewStaff, departments: set[str]) -> None:
    """Refuse an account that could not work: a bad username, role, department or password."""
    if not _USERNAME.match(normalise_username(new.username)):
        raise StaffError(
            "username: 2-64 characters, lower-case letters, digits, '.', '_' or '-'",
            "用户名：2 至 64 个字符，只能是小写字母、数字、“.”、“_”或“-”",
        )
    if not 1 <= len(new.name.strip()) <= 50:
        raise StaffError("name: 1 to 50 characters", "姓名：1 至 50 个字符")
    unknown = [r for r in new.roles if r not in ROLES]
    if not new.roles or unknown:
        raise StaffError(
            f"role: give one or more of {', '.join(ROLES)}",
            f"角色：须为以下一个或多个：{'、'.join(ROLES)}",
        )
    if new.department_code is not None and new.department_code not in departments:
        raise StaffError(
            f"department: no department with code {new.department_code!r}",
            f"部门：没有代码为 {new.department_code!r} 的部门",
        )
    if "handler" in new.roles and new.department_code is None:
        raise StaffError(
            "department: a handler belongs to one department; give its code",
            "部门：办理人员须属于一个部门，请填写部门代码",
        )
    if new.unit is not None and len(new.unit) > 100:
        raise StaffError("unit: at most 100 characters", "单位：最多 100 个字符")
    if len(new.password) < MIN_PASSWORD_LENGTH:
        raise StaffError(
            f"password: at least {MIN_PASSWORD_LENGTH} characters",
            f"密码：至少 {MIN_PASSWORD_LENGTH} 个字符",
        )


def add_staff(session: Session, new: NewStaff) -> StaffMember:
    """Create the account; StaffError if it is not valid or the username is taken."""
    departments = set(session.scalars(select(Department.code).where(Department.active.is_(True))))
    check_new_staff(new, departments)
    username = normalise_username(new.username)
    if session.scalar(select(func.count()).where(StaffMember.username == username)):
        raise StaffError(f"username {username!r} is taken", f"用户名 {username!r} 已被使用")
    now = utcnow()
    member = StaffMember(
        id=uuid.uuid4(),
        username=username,
        name=new.name.strip(),
        roles=" ".join(r for r in ROLES if r in new.roles),
        department_code=new.department_code,
        unit=new.unit,
        password_hash=hash_password(new.password),
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(member)
    session.flush()
    return member


def set_active(session: Session, username: str, active: bool) -> StaffMember | None:
    """Enable or disable an account; None if there is no such username."""
    member = session.scalars(
        select(StaffMember).where(StaffMember.username == normalise_username(username))
    ).first()
    if member is not None and member.active != active:
        member.active = active
        member.updated_at = utcnow()
    return member


class SignInThrottle:
    """Failed sign-ins per username and per address; past the limit, refused for a while.

    Kept in the routing process's memory. A success clears its username's failures, never its
    address's, so one right password does not buy a guesser a fresh allowance.
    """

    MAX_KEYS = 100_000

    def __init__(
        self,
        per_username: int = 5,
        per_address: int = 30,
        window: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"user": per_username, "addr": per_address}
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def wait(self, username: str, address: str | None) -> int:
        """Seconds until a sign-in for this username from this address is heard again; 0: now."""
        now = self._clock()
        with self._lock:
            waits = [
                self._wait(key, now) for key in self._keys(normalise_username(username), address)
            ]
        return max(waits, default=0)

    def failed(self, username: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key in self._keys(normalise_username(username), address):
                times = self._failures.pop(key, None) or deque()
                times.append(now)
                while len(times) > self._limits[key[0]]:
                    times.popleft()
                self._failures[key] = times
            while len(self._failures) > self.MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(("user", normalise_username(username)), None)

    def _keys(self, username: str, address: str | None) -> list[tuple[str, str]]:
        return [("user", username)] + ([("addr", address)] if address else [])

    def _wait(self, key: tuple[str, str], now: float) -> int:
        times = self._failures.get(key)
        if not times or len(times) < self._limits[key[0]]:
            return 0
        # The limit's worth of failures within the window: wait until the oldest ages out.
        left = times[0] + self._window - now
        return max(0, int(left + 0.999))


# The `minqing staff` command.


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`minqing staff add|list|disable|enable`."""
    staff = commands.add_parser("staff", help="staff accounts: add, list, disable, enable")
    actions = staff.add_subparsers(dest="staff_command", required=True)
    add = actions.add_parser("add", help="add an account; the password is read from standard input")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="the name shown on cases they take")
    add.add_argument(
        "--role", action="append", required=True, choices=ROLES, help="repeat for several"
    )
    add.add_argument("--department", help="department code (required for a handler)")
    add.add_argument("--unit", help="the unit they belong to, e.g. 12345 热线中心")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password as one line from standard input, without prompting",
    )
    actions.add_parser("list", help="every account")
    for verb in ("disable", "enable"):
        action = actions.add_parser(verb, help=f"{verb} an account's sign-in")
        action.add_argument("username")


def command(args: argparse.Namespace, settings: Settings) -> int:
    """`minqing staff …` against the configured routing database, brought up to date first."""
    url = settings.database_url("routing")
    migrations.upgrade("routing", Path(__file__).with_name("migrations"), url)
    database = Database(url, pool_size=1, max_overflow=0)
    try:
        with database.session() as session:
            status = run_command(args, session)
            if status == 0:
                session.commit()
            return status
    finally:
        database.dispose()


def run_command(
    args: argparse.Namespace, session: Session, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> int:
    """Carry out a `minqing staff` command in `session`'s transaction; the exit status."""
    if args.staff_command == "add":
        return _add(args, session, stdin, out)
    if args.staff_command == "list":
        _list(session, out)
        return 0
    member = set_active(session, args.username, args.staff_command == "enable")
    if member is None:
        print(f"minqing: no account {normalise_username(args.username)!r}", file=sys.stderr)
        return 1
    print(f"{member.username}: {'active' if member.active else 'disabled'}", file=out)
    return 0


def _add(args: argparse.Namespace, session: Session, stdin: TextIO, out: TextIO) -> int:
    if args.password_stdin or not stdin.isatty():
        password = stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("minqing: the passwords differ", file=sys.stderr)
            return 2
    if args.department and not session.scalar(select(func.count()).select_from(Department)):
        # A fresh database: routing has not yet loaded its catalogue, which holds the departments.
        sync_catalogue(session, load_catalogue())
        session.flush()
    new = NewStaff(
        username=args.username,
        name=args.name,
        roles=args.role,
        password=password,
        department_code=args.department,
        unit=args.unit,
    )
    try:
        member = add_staff(session, new)
    except StaffError as exc:
        print(f"minqing: {exc.en}", file=sys.stderr)
        return 2
    print(f"added {member.username} ({member.roles})", file=out)
    return 0


def _list(session: Session, out: TextIO) -> None:
    rows = session.scalars(select(StaffMember).order_by(StaffMember.username))
    print("username\tname\troles\tdepartment\tunit\tactive", file=out)
    for m in rows:
        fields = [m.username, m.name, m.roles, m.department_code or "-", m.unit or "-"]
        print("\t".join([*fields, "yes" if m.active else "no"]), file=out)
