"""The first ledger schema: clusters, audits, content-addressed node states, image uses, scans, vulnerability
sets, subjects and finding bodies (in compressed packs), and each audit's findings.

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("uid", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
        sa.UniqueConstraint("key", name=op.f("uq_clusters_key")),
    )
    op.create_table(
        "finding_packs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bodies", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_packs")),
    )
    op.create_table(
        "image_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("image_key", sa.Text(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("repository", sa.Text(), nullable=False),
        sa.Column("refs", sa.Text(), nullable=False),
        sa.Column("workloads", sa.Text(), nullable=False),
        sa.Column("namespaces", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_uses")),
        sa.UniqueConstraint("digest", name=op.f("uq_image_uses_digest")),
    )
    op.create_table(
        "node_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("uid", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.Column("boot_id", sa.Text(), nullable=False),
        sa.Column("machine_id", sa.Text(), nullable=False),
        sa.Column("kernel", sa.Text(), nullable=False),
        sa.Column("os_image", sa.Text(), nullable=False),
        sa.Column("kubelet", sa.Text(), nullable=False),
        sa.Column("runtime", sa.Text(), nullable=False),
        sa.Column("architecture", sa.Text(), nullable=False),
        sa.Column("pool", sa.Text(), nullable=False),
        sa.Column("created", sa.Text(), nullable=False),
        sa.Column("kubelet_product", sa.Text(), nullable=False),
        sa.Column("kubelet_cycle", sa.Text(), nullable=False),
        sa.Column("runtime_product", sa.Text(), nullable=False),
        sa.Column("runtime_cycle", sa.Text(), nullable=False),
        sa.Column("os_product", sa.Text(), nullable=False),
        sa.Column("os_cycle", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_states")),
        sa.UniqueConstraint("digest", name=op.f("uq_node_states_digest")),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("subject", name=op.f("uq_subjects_subject")),
    )
    op.create_table(
        "vulnerability_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("vulnerabilities", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulnerability_sets")),
        sa.UniqueConstraint("digest", name=op.f("uq_vulnerability_sets_digest")),
    )
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("evidence_key", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tool_version", sa.Text(), nullable=False),
        sa.Column("lifecycle_data_date", sa.Date(), nullable=True),
        sa.Column("data_sources", sa.Text(), nullable=False),
        sa.Column("policy_digest", sa.Text(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("bundle_digest", sa.Text(), nullable=True),
        sa.Column("inventory_digest", sa.Text(), nullable=False),
        sa.Column("identity_source", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("server", sa.Text(), nullable=False),
        sa.Column("api_version", sa.Text(), nullable=False),
        sa.Column("distribution", sa.Text(), nullable=False),
        sa.Column("openshift_release", sa.Text(), nullable=True),
        sa.Column("control_plane_product", sa.Text(), nullable=True),
        sa.Column("control_plane_cycle", sa.Text(), nullable=True),
        sa.Column("nodes", sa.Integer(), nullable=False),
        sa.Column("pods", sa.Integer(), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("status_counts", sa.Text(), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], name=op.f("fk_audits_cluster_id_clusters")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audits")),
        sa.UniqueConstraint("cluster_id", "evidence_key", name=op.f("uq_audits_cluster_id_evidence_key")),
    )
    op.create_index(op.f("ix_audits_cluster_id_observed_on"), "audits", ["cluster_id", "observed_on"], unique=False)

    op.create_table(
        "finding_bodies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("pack_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("check", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack_id"], ["finding_packs.id"], name=op.f("fk_finding_bodies_pack_id_finding_packs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_bodies")),
        sa.UniqueConstraint("digest", name=op.f("uq_finding_bodies_digest")),
    )
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("scanner", sa.Text(), nullable=False),
        sa.Column("scanner_version", sa.Text(), nullable=True),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("db_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("artifact", sa.Text(), nullable=False),
        sa.Column("repo_digests", sa.Text(), nullable=False),
        sa.Column("image_id", sa.Text(), nullable=True),
        sa.Column("os_family", sa.Text(), nullable=True),
        sa.Column("os_name", sa.Text(), nullable=True),
        sa.Column("os_eosl", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("vulnerability_set_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vulnerability_set_id"],
            ["vulnerability_sets.id"],
            name=op.f("fk_scans_vulnerability_set_id_vulnerability_sets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
        sa.UniqueConstraint("digest", name=op.f("uq_scans_digest")),
    )
    op.create_table(
        "set_vulnerabilities",
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("vulnerability", sa.Text(), nullable=False),
        sa.Column("package", sa.Text(), nullable=False),
        sa.Column("installed_version", sa.Text(), nullable=False),
        sa.Column("fixed_version", sa.Text(), nullable=True),
        sa.Column("severity", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("published", sa.Date(), nullable=True),
        sa.Column("fix_released", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["vulnerability_sets.id"],
            name=op.f("fk_set_vulnerabilities_set_id_vulnerability_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("set_id", "seq", name=op.f("pk_set_vulnerabilities")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "audit_findings",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audits.id"], name=op.f("fk_audit_findings_audit_id_audits"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_findings")),
    )
    op.create_table(
        "audit_images",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("image_use_id", sa.Integer(), nullable=False),
        sa.Column("pods", sa.Integer(), nullable=False),
        sa.Column("containers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audits.id"], name=op.f("fk_audit_images_audit_id_audits"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["image_use_id"], ["image_uses.id"], name=op.f("fk_audit_images_image_use_id_image_uses")
        ),
        sa.PrimaryKeyConstraint("audit_id", "image_use_id", name=op.f("pk_audit_images")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "audit_nodes",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("node_state_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audits.id"], name=op.f("fk_audit_nodes_audit_id_audits"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["node_state_id"], ["node_states.id"], name=op.f("fk_audit_nodes_node_state_id_node_states")
        ),
        sa.PrimaryKeyConstraint("audit_id", "node_state_id", name=op.f("pk_audit_nodes")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "audit_scans",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audits.id"], name=op.f("fk_audit_scans_audit_id_audits"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], name=op.f("fk_audit_scans_scan_id_scans")),
        sa.PrimaryKeyConstraint("audit_id", "scan_id", name=op.f("pk_audit_scans")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "scan_matches",
        sa.Column("image_key", sa.Text(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("match_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scans.id"], name=op.f("fk_scan_matches_scan_id_scans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("image_key", "scan_id", name=op.f("pk_scan_matches")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("scan_matches")
    op.drop_table("audit_scans")
    op.drop_table("audit_nodes")
    op.drop_table("audit_images")
    op.drop_table("audit_findings")
    op.drop_table("set_vulnerabilities")
    op.drop_table("scans")
    op.drop_table("finding_bodies")
    op.drop_index(op.f("ix_audits_cluster_id_observed_on"), table_name="audits")

    op.drop_table("audits")
    op.drop_table("vulnerability_sets")
    op.drop_table("subjects")
    op.drop_table("node_states")
    op.drop_table("image_uses")
    op.drop_table("finding_packs")
    op.drop_table("clusters")
