"""The ledger's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

The migrations in ``migrations/versions`` create exactly these tables (a test compares them);
this module is what the code reads and writes through.  Layout:

* ``clusters``: one row per cluster identity (``uid:<kube-system namespace UID>``, else ``name:<name>``).
* ``audits``: one row per recorded audit, unique per cluster and ``evidence_key`` (the bundle
  digest, else the inventory's digest and the as-of date): recording the same evidence twice
  gives one audit.
* Content-addressed rows, stored once however many audits share them (keyed by ``digest``, the
  SHA-256 of their canonical JSON): ``node_states`` (a node's name, provider ID, boot ID,
  versions, pool and lifecycle releases), ``image_uses`` (a running image and who runs it),
  ``finding_bodies`` (a finding without its subject: check, status, severity, requirements,
  message, key evidence, remediation), each new one written into its audit's compressed
  ``finding_packs`` row so that bodies compress together, ``scans`` (a scan report, keyed by the
  digest of its normalised content) and ``vulnerability_sets`` (what a scan found, keyed by the
  digest of the vulnerabilities alone, so the daily re-scan of an unchanged image stores its
  findings once) with their ``set_vulnerabilities``.
* Link tables: ``audit_nodes``, ``audit_images``, ``audit_findings`` (one compressed row per audit:
  subject and body of every finding, in report order; subjects are stored once in ``subjects``),
  ``audit_scans``, and ``scan_matches`` (which scans are evidence for which image).

JSON-valued columns are ``Text`` holding canonical JSON written by msgspec (sorted keys), so the
two engines store byte-identical values.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

VERSION_TABLE = "patchlevel_ledger_version"  # Alembic's revision table, named so it cannot clash

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

clusters = Table(
    "clusters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", Text, nullable=False, unique=True),  # "uid:<uid>" or "name:<name>"
    Column("name", Text, nullable=False),  # shown, and what --cluster NAME matches
    Column("uid", Text, nullable=True),  # the kube-system namespace UID, when known
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audits = Table(
    "audits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cluster_id", Integer, ForeignKey("clusters.id"), nullable=False),
    Column("evidence_key", Text, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("observed_on", Date, nullable=False),  # the evidence's own date: collection day, else as-of
    Column("collected_at", DateTime(timezone=True), nullable=True),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("tool_version", Text, nullable=False),
    Column("lifecycle_data_date", Date, nullable=True),
    Column("data_sources", Text, nullable=False),  # JSON list
    Column("policy_digest", Text, nullable=False),
    Column("policy", Text, nullable=False),  # JSON object: the thresholds in force
    Column("bundle_digest", Text, nullable=True),
    Column("inventory_digest", Text, nullable=False),
    Column("identity_source", Text, nullable=False),  # kube-system-uid, cluster-option, context, snapshot, …
    Column("source", Text, nullable=False),  # snapshot, live, bundle
    Column("context", Text, nullable=False),  # the inventory's own name (context or snapshot)
    Column("server", Text, nullable=False),
    Column("api_version", Text, nullable=False),  # raw gitVersion, "" when unknown
    Column("distribution", Text, nullable=False),
    Column("openshift_release", Text, nullable=True),
    Column("control_plane_product", Text, nullable=True),  # lifecycle product and cycle the audit judged it by
    Column("control_plane_cycle", Text, nullable=True),
    Column("nodes", Integer, nullable=False),
    Column("pods", Integer, nullable=False),
    Column("images", Integer, nullable=False),
    Column("status_counts", Text, nullable=False),  # JSON object: findings by status
    Column("warnings", Text, nullable=False),  # JSON list
    UniqueConstraint("cluster_id", "evidence_key"),
    Index(None, "cluster_id", "observed_on"),
)

node_states = Table(
    "node_states",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("uid", Text, nullable=False),
    Column("provider_id", Text, nullable=False),
    Column("boot_id", Text, nullable=False),
    Column("machine_id", Text, nullable=False),
    Column("kernel", Text, nullable=False),
    Column("os_image", Text, nullable=False),
    Column("kubelet", Text, nullable=False),
    Column("runtime", Text, nullable=False),
    Column("architecture", Text, nullable=False),
    Column("pool", Text, nullable=False),
    Column("created", Text, nullable=False),  # the node object's creationTimestamp, as written
    # The lifecycle product and release cycle the audit judged each component by ("" when it could not tell).
    Column("kubelet_product", Text, nullable=False),
    Column("kubelet_cycle", Text, nullable=False),
    Column("runtime_product", Text, nullable=False),
    Column("runtime_cycle", Text, nullable=False),
    Column("os_product", Text, nullable=False),
    Column("os_cycle", Text, nullable=False),
)

audit_nodes = Table(
    "audit_nodes",
    metadata,
    Column("audit_id", Integer, ForeignKey("audits.id", ondelete="CASCADE"), nullable=False),
    Column("node_state_id", Integer, ForeignKey("node_states.id"), nullable=False),
    PrimaryKeyConstraint("audit_id", "node_state_id"),
    sqlite_with_rowid=False,
)

image_uses = Table(
    "image_uses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", Text, nullable=False, unique=True),
    Column("image_key", Text, nullable=False),  # registry digest, runtime-local image ID, or "ref:<reference>"
    Column("identity", Text, nullable=False),  # digest, local-id, unknown
    Column("subject", Text, nullable=False),
    Column("repository", Text, nullable=False),
    Column("refs", Text, nullable=False),  # JSON list: references as the pod specs write them
    Column("workloads", Text, nullable=False),  # JSON list of "Kind/namespace/name"
    Column("namespaces", Text, nullable=False),  # JSON list
)

audit_images = Table(
    "audit_images",
    metadata,
    Column("audit_id", Integer, ForeignKey("audits.id", ondelete="CASCADE"), nullable=False),
    Column("image_use_id", Integer, ForeignKey("image_uses.id"), nullable=False),
    Column("pods", Integer, nullable=False),
    Column("containers", Integer, nullable=False),
    PrimaryKeyConstraint("audit_id", "image_use_id"),
    sqlite_with_rowid=False,
)

vulnerability_sets = Table(
    "vulnerability_sets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", Text, nullable=False, unique=True),  # SHA-256 of the vulnerabilities, in report order
    Column("vulnerabilities", Integer, nullable=False),
)

set_vulnerabilities = Table(
    "set_vulnerabilities",
    metadata,
    Column("set_id", Integer, ForeignKey("vulnerability_sets.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("vulnerability", Text, nullable=False),
    Column("package", Text, nullable=False),
    Column("installed_version", Text, nullable=False),
    Column("fixed_version", Text, nullable=True),
    Column("severity", Text, nullable=True),
    Column("status", Text, nullable=False),
    Column("published", Date, nullable=True),
    Column("fix_released", Date, nullable=True),
    PrimaryKeyConstraint("set_id", "seq"),
    sqlite_with_rowid=False,
)

scans = Table(
    "scans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", Text, nullable=False, unique=True),  # SHA-256 of the report's normalised content
    Column("format", Text, nullable=False),
    Column("scanner", Text, nullable=False),
    Column("scanner_version", Text, nullable=True),
    Column("scanned_at", DateTime(timezone=True), nullable=True),
    Column("db_updated_at", DateTime(timezone=True), nullable=True),
    Column("artifact", Text, nullable=False),
    Column("repo_digests", Text, nullable=False),  # JSON list
    Column("image_id", Text, nullable=True),
    Column("os_family", Text, nullable=True),
    Column("os_name", Text, nullable=True),
    Column("os_eosl", Boolean, nullable=True),
    Column("error", Text, nullable=False),
    Column("vulnerability_set_id", Integer, ForeignKey("vulnerability_sets.id"), nullable=False),
)

scan_matches = Table(
    "scan_matches",
    metadata,
    Column("image_key", Text, nullable=False),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
    Column("match_by", Text, nullable=False),  # digest, image-id, tag
    PrimaryKeyConstraint("image_key", "scan_id"),
    sqlite_with_rowid=False,
)

audit_scans = Table(
    "audit_scans",
    metadata,
    Column("audit_id", Integer, ForeignKey("audits.id", ondelete="CASCADE"), nullable=False),
    Column("scan_id", Integer, ForeignKey("scans.id"), nullable=False),
    Column("source", Text, nullable=False),  # where the audit read it (file path or cluster object)
    PrimaryKeyConstraint("audit_id", "scan_id"),
    sqlite_with_rowid=False,
)

finding_packs = Table(
    "finding_packs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bodies", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),  # zlib of the canonical JSON list of the bodies it holds
)

finding_bodies = Table(
    "finding_bodies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", LargeBinary, nullable=False, unique=True),  # the first 16 bytes of the body's SHA-256
    Column("pack_id", Integer, ForeignKey("finding_packs.id"), nullable=False),
    Column("idx", Integer, nullable=False),  # its place in the pack
    Column("check", Text, nullable=False),
    Column("status", Text, nullable=False),
)

subjects = Table(
    "subjects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject", Text, nullable=False, unique=True),  # cluster, node/<name>, image/<repo>@<digest>, …
)

audit_findings = Table(
    "audit_findings",
    metadata,
    Column("audit_id", Integer, ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True),
    Column("findings", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),  # zlib of the JSON list of [subject id, body id], in report order
)
