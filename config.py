"""Configuration, read from the environment.

`create_app(overrides)` loads this module, then `PRODUCTION` when the profile
is production (`CONFIG=production`, or `PROFILE` in the overrides), then
`overrides` (tests pass their own database URL and switch CSRF off).

Profiles (README "Production profile"):
- development (default): a generated SECRET_KEY kept in instance/, text
  logs, no proxy trusted, cookies without Secure (plain http on a laptop or LAN).
- production: SECRET_KEY from the environment or no start; demo accounts
  with their demo password and the demo intranet key refused
  (app/operations.py); `PROXY_COUNT` proxies trusted (default 1, nginx);
  Secure cookies and HSTS (TLS ends at the proxy); JSON logs.
"""
import os
import secrets

BASE_DIR = os.path.abspath(os.path.dirname(__file__))
INSTANCE_DIR = os.path.join(BASE_DIR, "instance")

PROFILE = os.environ.get("CONFIG", "development").strip().lower() or "development"
if PROFILE not in ("development", "production"):
    raise RuntimeError(f"CONFIG must be development or production, not {PROFILE!r}")


def _secret_key() -> str | None:
    """The environment's key; in development a generated one kept in instance/ (production: none)."""
    key = os.environ.get("SECRET_KEY")
    if key or PROFILE == "production":
        return key
    os.makedirs(INSTANCE_DIR, mode=0o700, exist_ok=True)
    path = os.path.join(INSTANCE_DIR, "secret_key")
    if not os.path.exists(path):
        # readable by this user only (finding L7), from the moment it exists
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32))
    elif os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)  # written by an older version
    with open(path, encoding="ascii") as fh:
        return fh.read().strip()


SECRET_KEY = _secret_key()

SQLALCHEMY_DATABASE_URI = os.environ.get(
    "DATABASE_URL", "sqlite:///" + os.path.join(INSTANCE_DIR, "court.db")
)
SQLALCHEMY_TRACK_MODIFICATIONS = False

APP_NAME = "人民法院调解平台"
APP_THEME = ""

# Schema belongs to Alembic; roles and permissions to `flask seed-roles`
# (notes/fab5.md §1: FAB's implicit create_all collides with migrations and its
# permission sync races between workers).
FAB_CREATE_DB = False
FAB_UPDATE_PERMS = False
FAB_ADD_SECURITY_VIEWS = True
FAB_SECURITY_MANAGER_CLASS = "app.security.CourtSecurityManager"
AUTH_TYPE = 1  # AUTH_DB
AUTH_ROLE_ADMIN = "平台管理员"
AUTH_ROLE_PUBLIC = "Public"
AUTH_USER_REGISTRATION = False
AUTH_RATE_LIMITED = False  # FAB's own per-view limit; ours counts failures (app/sessions.py)
FAB_PASSWORD_HASH_METHOD = "scrypt"
# A generated initial password (批量导入, 10 random letters and digits, to be changed after the first
# login) is hashed at 1/8 of scrypt's default memory cost: ~12 ms instead of ~170 ms on the 2-core box,
# so 2,000 imported users hash in under a minute (benchmarks/bulk_import.py, app/workflows/accounts.py).
INITIAL_PASSWORD_HASH_METHOD = os.environ.get("INITIAL_PASSWORD_HASH_METHOD", "scrypt:4096:8:1")
# Failed logins (form, JSON API, a wrong current password on 修改密码) per account and per client
# address before 429 (finding M1). The counts live in Flask-Limiter's storage. Unset: the app's own
# database (`courtdb://`, the rate_limit table, fixed windows — app/rate_limits.py), shared by every
# app server and gunicorn worker. memory:// counts per process (one server only); big deployments
# can share them through Redis (needs the `redis` package): RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0
LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "30 per 15 minutes")
RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or None
RATELIMIT_ENABLED = True  # FAB turns Flask-Limiter off unless asked; only the login limits use it
RATELIMIT_STRATEGY = "moving-window"  # memory:// and redis://; courtdb:// counts fixed windows
RATELIMIT_HEADERS_ENABLED = False

# i18n: English msgids, Chinese default. Absolute path (notes/fab5.md §2).
BABEL_DEFAULT_LOCALE = "zh"
BABEL_DEFAULT_FOLDER = os.path.join(BASE_DIR, "translations")
BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, "translations")
LANGUAGES = {
    "zh": {"flag": "cn", "name": "中文"},
    "en": {"flag": "gb", "name": "English"},
}

WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None

UPLOAD_FOLDER = os.path.join(INSTANCE_DIR, "uploads")
# A request may carry a little more than one document, so that an oversize
# document gets the explained refusal rather than a bare 413.
MAX_CONTENT_LENGTH = 25 * 1024 * 1024
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
AGREEMENT_TEMPLATE = os.environ.get("AGREEMENT_TEMPLATE") or None
BULK_IMPORT_MAX_ROWS = 2000
# Zip containers (.docx, .xlsx) are bounded before they are opened (app/uploads.py, finding M7):
# entries, and bytes once unpacked (a 10 MB document unpacks to far less than this).
ZIP_MAX_ENTRIES = 1000
ZIP_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
BULK_IMPORT_MAX_BYTES = 5 * 1024 * 1024
BULK_IMPORT_MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024

# SMS adapter: "outbox" writes to the sms_outbox table that platform staff read (codes and initial
# passwords masked, finding M8); SMS_LOG_TEXT writes the full text to the log (court.sms) so that a
# developer or a demo without a gateway reads codes in the terminal. Off in production.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "outbox")
SMS_LOG_TEXT = os.environ.get("SMS_LOG_TEXT", "1" if PROFILE == "development" else "0") == "1"
SMS_CODE_TTL_SECONDS = 300
SMS_CODE_MAX_ATTEMPTS = 5
SMS_CODE_MIN_INTERVAL_SECONDS = 60
SMS_CODE_MAX_PER_HOUR = 5
# 验证码登录 / 注册 codes asked for from one client address an hour (app/workflows/sms_codes.py)
SMS_CODE_MAX_PER_IP_PER_HOUR = 30

# Outside systems (app/outbox.py): "local" is the stand-in inside this app, "http" posts JSON.
MINISTRY_PLATFORM = os.environ.get("MINISTRY_PLATFORM", "local")
COURT_INTRANET = os.environ.get("COURT_INTRANET", "local")
COURT_INTRANET_URL = os.environ.get("COURT_INTRANET_URL") or None

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Files the app creates (SQLite database, exports, recordings, backups) are its user's alone (L7).
FILE_UMASK = 0o077

# Statistics exports (issue 7): up to EXPORT_SYNC_LIMIT rows download at once;
# more are written in the background by `flask worker` into EXPORT_FOLDER.
EXPORT_FOLDER = os.environ.get("EXPORT_FOLDER") or os.path.join(INSTANCE_DIR, "exports")
EXPORT_SYNC_LIMIT = 2000

# Serving (app/serving.py). EXTERNAL_BASE_URL (scheme://host[:port]) is what a phone
# opens from a QR code; unset, the request's own host is used.
EXTERNAL_BASE_URL = os.environ.get("EXTERNAL_BASE_URL") or None
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000"))

# SQLite: WAL lets readers run beside the writer (app/transactions.py).
SQLITE_WAL = True

# The worker (app/operations.py): seconds between rounds, the longest back-off after
# database errors, and when /health calls its heartbeat stale (503). A round that
# runs a large export can take a while: keep the threshold well above one round.
WORKER_INTERVAL_SECONDS = float(os.environ.get("WORKER_INTERVAL_SECONDS", "5"))
WORKER_MAX_BACKOFF_SECONDS = float(os.environ.get("WORKER_MAX_BACKOFF_SECONDS", "60"))
WORKER_HEARTBEAT_STALE_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_STALE_SECONDS", "120"))
# How long a worker's claim on an outbox message or a job lasts before another worker may take it over
# (app/claims.py): longer than one delivery or one batch of a job, which renews it.
WORKER_LEASE_SECONDS = float(os.environ.get("WORKER_LEASE_SECONDS", "300"))
# Claims of one export or import job before it is failed: a job whose worker dies every time (a file that
# crashes it, memory it runs out of) is given up after this many, not taken over forever (app/claims.py).
WORKER_MAX_ATTEMPTS = int(os.environ.get("WORKER_MAX_ATTEMPTS", "3"))
# Outbox messages one worker claims at a time: smaller batches spread a burst over more workers.
WORKER_OUTBOX_BATCH = int(os.environ.get("WORKER_OUTBOX_BATCH", "50"))
# The audit chain head goes to the log this often (`flask audit anchor` exports it on demand).
AUDIT_ANCHOR_SECONDS = float(os.environ.get("AUDIT_ANCHOR_SECONDS", "3600"))

# The production profile, applied over the values above by create_app.
PRODUCTION = {
    "PROFILE": "production",
    "DEBUG": False,
    "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "1")),
    "PREFERRED_URL_SCHEME": "https",
    "SESSION_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json"),
    "SMS_LOG_TEXT": os.environ.get("SMS_LOG_TEXT", "0") == "1",
}

# Hearings (issue 13, README "Video mediation"): the file store, recordings, WebRTC.
# Recordings (and other large files) live in FILE_STORE_DIR, never in the database.
FILE_STORE_DIR = os.environ.get("FILE_STORE_DIR") or os.path.join(INSTANCE_DIR, "files")
# FILE_STORE=s3 keeps them in a bucket of anything speaking S3 instead (MinIO, a cloud's object storage;
# app/storage.py S3Store, README "Files in S3-compatible storage"). Credentials: S3_ACCESS_KEY_ID and
# S3_SECRET_ACCESS_KEY, else boto3's own chain (AWS_ACCESS_KEY_ID…, ~/.aws, an instance role).
FILE_STORE = os.environ.get("FILE_STORE") or "directory"
S3_BUCKET = os.environ.get("S3_BUCKET") or ""
S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
S3_REGION = os.environ.get("S3_REGION") or None
S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID") or None
S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY") or None
S3_KEY_PREFIX = os.environ.get("S3_KEY_PREFIX") or ""
# Downloads of recordings this large or larger (bytes) are redirected to a pre-signed URL of the bucket,
# valid S3_PRESIGN_SECONDS, when the store is S3 and browsers can reach its endpoint; 0 = always stream.
S3_PRESIGN_OVER_BYTES = int(os.environ.get("S3_PRESIGN_OVER_BYTES") or 0)
S3_PRESIGN_SECONDS = int(os.environ.get("S3_PRESIGN_SECONDS") or 300)
RECORDING_MAX_BYTES = int(os.environ.get("RECORDING_MAX_BYTES") or 2 * 1024 ** 3)
# STUN/TURN servers as JSON, e.g. [{"urls": "turn:turn.example.cn:3478", "username": "u", "credential": "p"}];
# none: browsers on one machine or one LAN find each other directly.
VIDEO_ICE_SERVERS = os.environ.get("VIDEO_ICE_SERVERS") or "[]"
VIDEO_MAX_PARTICIPANTS = int(os.environ.get("VIDEO_MAX_PARTICIPANTS") or 9)
# a page that has not polled for this long is no longer in the room
VIDEO_PRESENCE_SECONDS = 20
VIDEO_POLL_MS = 1000
# MediaRecorder uploads a piece of the recording this often
VIDEO_CHUNK_MS = 2000
# The room's media: "mesh" (default: the browsers connect to each other, nothing to run but the app) or
# "janus" (README "Video rooms through Janus": an SFU relays the media; larger 多路视频 rooms and
# recording on the server). JANUS_URL is the Janus HTTP API as browsers reach it (nginx: /janus on the
# platform's origin); JANUS_API_URL and JANUS_ADMIN_URL as the app's server reaches it (loopback).
VIDEO_BACKEND = os.environ.get("VIDEO_BACKEND") or "mesh"
JANUS_URL = os.environ.get("JANUS_URL") or ""
JANUS_API_URL = os.environ.get("JANUS_API_URL") or JANUS_URL
JANUS_ADMIN_URL = os.environ.get("JANUS_ADMIN_URL") or ""
JANUS_API_SECRET = os.environ.get("JANUS_API_SECRET") or ""
JANUS_ADMIN_SECRET = os.environ.get("JANUS_ADMIN_SECRET") or ""
# where Janus writes a room's recordings (.mjr), readable by `flask worker`, which converts them with
# janus-pp-rec (janus-tools) and stores them; unset: the mediator's browser records, as in the mesh
JANUS_RECORDINGS_DIR = os.environ.get("JANUS_RECORDINGS_DIR") or ""
JANUS_PP_REC = os.environ.get("JANUS_PP_REC") or "/usr/bin/janus-pp-rec"
JANUS_TIMEOUT_SECONDS = float(os.environ.get("JANUS_TIMEOUT_SECONDS") or 10)
# through the SFU a 多路视频 room may be larger than the mesh's VIDEO_MAX_PARTICIPANTS
VIDEO_MAX_PARTICIPANTS_SFU = int(os.environ.get("VIDEO_MAX_PARTICIPANTS_SFU") or 25)

# Real-name verification (issue 14, README "Real-name verification"): the ID images live in the
# file store, readable only by the person and platform staff, and are deleted this many days after
# the review (by `flask worker` each round, or `flask purge-id-images`).
ID_IMAGE_RETENTION_DAYS = int(os.environ.get("ID_IMAGE_RETENTION_DAYS") or 30)
ID_IMAGE_MAX_BYTES = 5 * 1024 * 1024
# The face-verification adapter, "module:Class" (app/identity_check.py describes the interface);
# the local default routes every submission to 人工审核.
FACE_VERIFIER = os.environ.get("FACE_VERIFIER") or "app.identity_check:ManualReviewOnly"
