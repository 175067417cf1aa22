#!/usr/bin/env python3
"""A local Label Studio server for annotators and the integration tests, on 127.0.0.1 only.

Label Studio pins its own Django and pyarrow, so it lives in its own virtual environment
(``.labelstudio/venv``), apart from chipwar's. This script installs it, starts it with a
data folder of ours, gets a personal access token headlessly and stops it by its process
group, working around the traps recorded for Label Studio 1.23: a ``SECRET_KEY`` of our
own (a generated one can start with ``$`` and be lost on restart, voiding every token),
no stray ``HOST``/``PORT``/``USERNAME``/``PASSWORD`` in its environment, the real port
read from its log (it silently moves to port+1 when the port is busy), and a cold start of
~25 s. Only the standard library is used, so any Python 3.11 runs it.

The personal access token is handed to commands in their environment only (``run``); it
is never printed and never written by us to a file or a log. The admin's login is kept in
``chipwar-server.json`` and the server's ``SECRET_KEY`` in a file of its own
(``chipwar-secret-key``), both readable by their owner only: whoever is given the admin
password need not hold the key that signs every session and token. Annotators get
accounts of their own (``accounts``), whose passwords are printed once and kept nowhere.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.cookiejar
import json
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

LABEL_STUDIO_VERSION = "1.23.2"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_HOME = REPO / ".labelstudio"
STATE_FILE = "chipwar-server.json"  # in the data folder: the admin's login for the browser, pid and port
SECRET_KEY_FILE = "chipwar-secret-key"  # in the data folder: the key Label Studio signs sessions and tokens with
READY = re.compile(r"Starting development server at http://127\.0\.0\.1:(\d+)/")
#: Variables Label Studio reads un-prefixed and that would silently change where it listens or who logs in.
STRAY_VARIABLES = ("HOST", "PORT", "USERNAME", "PASSWORD", "LABEL_STUDIO_HOST", "LABEL_STUDIO_PORT")

EXAMPLES = """\
examples:
  python scripts/labelstudio_server.py start                 # install if needed, start on http://127.0.0.1:8080
  python scripts/labelstudio_server.py accounts alice@example.org bob@example.org   # prints each login once
  python scripts/labelstudio_server.py run -- .venv/bin/chipwar labelstudio push --set gold
  python scripts/labelstudio_server.py run -- .venv/bin/chipwar labelstudio pull --annotator alice
  python scripts/labelstudio_server.py stop
"""


class ServerError(RuntimeError):
    """A failure the user can act on; the message says what to do."""


@dataclass
class Server:
    """What a started server needs to be used and stopped: kept in ``<data>/chipwar-server.json`` (mode 600).

    The secret key is not part of it: :meth:`secret_key` reads it from its own file."""

    data_dir: str
    username: str
    password: str
    url: str | None = None
    pid: int | None = None

    @classmethod
    def load(cls, data_dir: Path) -> Server:
        path = data_dir / STATE_FILE
        if not path.is_file():
            raise ServerError(f"{path}: no server was started with this data folder; run `python scripts/labelstudio_server.py start` first")
        state = json.loads(path.read_text(encoding="utf-8"))
        key = state.pop("secret_key", None)
        server = cls(**state)
        if key is not None:  # a state file written before the key had a file of its own: move the key there
            _write_private(data_dir / SECRET_KEY_FILE, key)
            server.save()
        return server

    def save(self) -> None:
        _write_private(Path(self.data_dir) / STATE_FILE, json.dumps(asdict(self), indent=2))

    def secret_key(self) -> str:
        """Label Studio's ``SECRET_KEY`` for this data folder, made on first use and kept for restarts."""
        path = Path(self.data_dir) / SECRET_KEY_FILE
        if not path.is_file():
            _write_private(path, secrets.token_hex(32))
        return path.read_text(encoding="utf-8").strip()


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only, replacing it whole."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def label_studio_bin(home: Path) -> Path:
    return home / "venv" / "bin" / "label-studio"


def install(home: Path = DEFAULT_HOME) -> Path:
    """Install the pinned Label Studio into ``home/venv`` unless it is already there."""
    exe = label_studio_bin(home)
    python = home / "venv" / "bin" / "python"
    if exe.exists():
        probe = subprocess.run([str(python), "-c", "from importlib.metadata import version; print(version('label-studio'))"],
                               capture_output=True, text=True)
        if probe.stdout.strip() == LABEL_STUDIO_VERSION:
            return exe
    log(f"Installing label-studio=={LABEL_STUDIO_VERSION} into {home / 'venv'} (about 1 GB, a minute or two)…")
    subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"label-studio=={LABEL_STUDIO_VERSION}"], check=True)
    return exe


def server_environment(server: Server) -> dict[str, str]:
    """The environment Label Studio starts with: ours, minus what would mislead it."""
    env = {k: v for k, v in os.environ.items() if k not in STRAY_VARIABLES}
    env.update({
        "SECRET_KEY": server.secret_key(),
        "LABEL_STUDIO_BASE_DATA_DIR": server.data_dir,
        "LABEL_STUDIO_USERNAME": server.username,
        "LABEL_STUDIO_PASSWORD": server.password,
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "false",
    })
    return env


def is_running(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start(data_dir: Path, port: int = 8080, home: Path = DEFAULT_HOME, timeout: float = 180) -> Server:
    """Start Label Studio in the background on 127.0.0.1 and wait until it answers ``/health``."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = Server.load(data_dir)
    except ServerError:  # first start with this folder: our own key and login, kept for restarts
        server = Server(str(data_dir), "admin@chipwar.local", secrets.token_urlsafe(18))
    if is_running(server.pid):
        raise ServerError(f"a server is already running for {data_dir} at {server.url} (pid {server.pid}); "
                          "stop it with `python scripts/labelstudio_server.py stop`")
    exe = install(home)
    log_path = data_dir / "server.log"
    log_file = open(log_path, "ab")
    offset = log_path.stat().st_size
    proc = subprocess.Popen(
        [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)],
        env=server_environment(server), stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True, cwd=data_dir)
    log_file.close()
    server.pid, server.url = proc.pid, None
    server.save()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"Label Studio exited with code {proc.returncode} while starting; see {log_path}")
        if server.url is None:
            with open(log_path, "rb") as fh:
                fh.seek(offset)
                found = READY.search(fh.read().decode("utf-8", "replace"))
            if found:
                server.url = f"http://127.0.0.1:{found.group(1)}"
                server.save()
        if server.url and _health(server.url):
            return server
        time.sleep(1)
    stop(data_dir)
    raise ServerError(f"Label Studio did not answer within {timeout:.0f} s; see {log_path}")


def _health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def stop(data_dir: Path, wait: float = 20) -> bool:
    """Stop the server of ``data_dir`` by its process group; False when none was running."""
    server = Server.load(data_dir.resolve())
    if not is_running(server.pid):
        return False
    assert server.pid is not None
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if os.waitpid(server.pid, os.WNOHANG)[0]:
                break
        except ChildProcessError:  # not our child: poll it
            if not is_running(server.pid):
                break
        time.sleep(0.2)
    else:
        os.killpg(server.pid, signal.SIGKILL)
    server.pid = None
    server.save()
    return True


def _submit_form(url: str, path: str, fields: dict[str, str]) -> tuple[urllib.request.OpenerDirector, str] | None:
    """Fill in a Label Studio form as a browser does (GET it for the CSRF token, POST it).

    Returns the opener holding the new session and the CSRF token, or None when no session
    was opened (wrong password, refused sign-up)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{url}{path}", timeout=30).read()
    csrf = next((c.value for c in jar if c.name == "csrftoken"), "")
    form = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": csrf}).encode()
    opener.open(urllib.request.Request(f"{url}{path}", data=form, headers={"Referer": f"{url}{path}"}), timeout=30).read()
    if not any(c.name == "sessionid" for c in jar):
        return None
    return opener, next((c.value for c in jar if c.name == "csrftoken"), csrf)


def signup(url: str, email: str, password: str) -> None:
    """Create a user through the sign-up form, as a new annotator would."""
    if _submit_form(url, "/user/signup/", {"email": email, "password": password, "allow_newsletters": "false"}) is None:
        raise ServerError(f"{url}: signing up {email} failed")


def personal_access_token(url: str, email: str, password: str, server: Server | None = None) -> str:
    """The user's personal access token, obtained headlessly (session login, ``POST /api/token/``).

    Label Studio shows a token only once and refuses a second one (409) while the first is
    valid; for a server we run ourselves (``server``) the existing token is then rebuilt from
    its own database and our ``SECRET_KEY``, exactly as Label Studio signed it.
    """
    session = _submit_form(url, "/user/login/", {"email": email, "password": password})
    if session is None:
        raise ServerError(f"{url}: logging in as {email} failed; check the user and password")
    opener, csrf = session
    req = urllib.request.Request(f"{url}/api/token/", data=b"{}", method="POST",
                                 headers={"Content-Type": "application/json", "X-CSRFToken": csrf, "Referer": url})
    try:
        with opener.open(req, timeout=30) as resp:
            return json.loads(resp.read())["token"]
    except urllib.error.HTTPError as err:
        if err.code != 409 or server is None:
            raise ServerError(f"{url}: could not create a personal access token for {email} (HTTP {err.code})") from None
    return _stored_token(Path(server.data_dir), email, server.secret_key())


def _stored_token(data_dir: Path, email: str, secret_key: str) -> str:
    db = sqlite3.connect(f"file:{data_dir / 'label_studio.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT t.token FROM token_blacklist_outstandingtoken t JOIN htx_user u ON u.id = t.user_id "
            "WHERE u.email = ? AND t.id NOT IN (SELECT token_id FROM token_blacklist_blacklistedtoken) "
            "ORDER BY t.id DESC", (email,)).fetchall()
    finally:
        db.close()
    for (stored,) in rows:  # header.payload only: Label Studio keeps no signature; it signs with our SECRET_KEY
        payload = stored.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if claims.get("token_type") == "refresh" and claims.get("exp", float("inf")) > time.time():
            mac = hmac.new(secret_key.encode(), stored.encode(), hashlib.sha256).digest()
            return f"{stored}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    raise ServerError(f"{data_dir}: no valid personal access token for {email}; revoke it in Label Studio "
                      "(Account & Settings) and run again")


def running(data_dir: Path) -> Server:
    """The server of ``data_dir``, answering on its URL."""
    server = Server.load(data_dir.resolve())
    if not (is_running(server.pid) and server.url and _health(server.url)):
        raise ServerError(f"the server for {data_dir} is not running; start it with `python scripts/labelstudio_server.py start`")
    return server


def create_accounts(data_dir: Path, emails: list[str]) -> list[tuple[str, str]]:
    """Sign each email up on the running server with a new random password; (email, password) pairs.

    The passwords are returned to be shown once and are kept nowhere; an email that already
    has an account is refused before any account is made."""
    server = running(data_dir)
    assert server.url is not None
    bad = [e for e in emails if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", e)]
    if bad:
        raise ServerError(f"not an email address: {', '.join(bad)}; give each annotator's email, e.g. alice@example.org")
    taken = sorted(set(emails) & _user_emails(Path(server.data_dir)) | {e for e in emails if emails.count(e) > 1})
    if taken:
        raise ServerError(f"{', '.join(taken)}: already has an account (or is given twice); its login was printed when it "
                          "was made and is kept nowhere; give each email once, and a new account another email")
    made = []
    for email in emails:
        password = secrets.token_urlsafe(12)
        signup(server.url, email, password)
        made.append((email, password))
    return made


def _user_emails(data_dir: Path) -> set[str]:
    db = sqlite3.connect(f"file:{data_dir / 'label_studio.sqlite3'}?mode=ro", uri=True)
    try:
        return {email for (email,) in db.execute("SELECT email FROM htx_user")}
    finally:
        db.close()


def run(data_dir: Path, argv: list[str]) -> int:
    """Run ``argv`` with LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY set for the server of ``data_dir``."""
    server = running(data_dir)
    assert server.url is not None
    token = personal_access_token(server.url, server.username, server.password, server)
    env = {**os.environ, "LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": token}
    return subprocess.run(argv, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_HOME / "data",
                        help="Label Studio's data folder (default: .labelstudio/data)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="install the pinned Label Studio into .labelstudio/venv", epilog=EXAMPLES,
                   formatter_class=argparse.RawDescriptionHelpFormatter)
    p_start = sub.add_parser("start", help="start the server in the background", epilog=EXAMPLES,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    p_start.add_argument("--port", type=int, default=8080)
    p_start.add_argument("--format", choices=("text", "json"), default="text")
    sub.add_parser("stop", help="stop the server", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_accounts = sub.add_parser("accounts", help="create an annotator account for each email and print its login once",
                                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_accounts.add_argument("emails", nargs="+", metavar="EMAIL")
    p_run = sub.add_parser("run", help="run a command with LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY set",
                           epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_run.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            print(f"Label Studio {LABEL_STUDIO_VERSION}: {install()}")
        elif args.command == "start":
            log(f"Starting Label Studio on 127.0.0.1 (data: {args.data_dir}); a first start takes ~30 s…")
            server = start(args.data_dir, args.port)
            if args.format == "json":
                print(json.dumps({"url": server.url, "pid": server.pid, "data_dir": server.data_dir,
                                  "username": server.username}))
            else:
                print(f"Label Studio is running at {server.url} (pid {server.pid}).\n"
                      f"Log in as {server.username}; the password is in {Path(server.data_dir) / STATE_FILE}.\n"
                      "Next: python scripts/labelstudio_server.py run -- .venv/bin/chipwar labelstudio push --set gold")
        elif args.command == "accounts":
            made = create_accounts(args.data_dir, args.emails)
            server = Server.load(args.data_dir.resolve())
            log(f"Give each annotator their line; the passwords are shown only now and kept nowhere. Log in at {server.url}")
            for email, password in made:
                print(f"{email}\t{password}")
        elif args.command == "stop":
            print("stopped" if stop(args.data_dir) else "no server was running")
        else:
            cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            if not cmd:
                parser.error("run: give the command to run after --")
            return run(args.data_dir, cmd)
    except ServerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
