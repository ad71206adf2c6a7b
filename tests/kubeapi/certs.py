"""A throwaway certificate authority for the test API server.

One CA signs a server certificate for the loopback address (IP and DNS subject alternative
names, as Go's TLS client insists on SANs) and, on request, client certificates whose common
name and organisations become the Kubernetes user name and groups, as with kube-apiserver's
``--client-ca-file``.  Keys are ECDSA P-256: quick to generate and accepted by kubectl.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes


@dataclass(frozen=True, slots=True)
class LoopbackPKI:
    """The CA and the server certificate it signed; issues client certificates on demand."""

    ca: KeyPair
    server: KeyPair
    not_before: datetime
    not_after: datetime

    def issue_client(self, user: str, groups: Sequence[str] = ()) -> KeyPair:
        """A client certificate that authenticates as ``user`` in ``groups`` (CN and O)."""
        names = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
        names.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
        return _issue(
            self,
            x509.Name(names),
            extended_usage=ExtendedKeyUsageOID.CLIENT_AUTH,
            alt_names=None,
        )


def make_pki(hosts: Sequence[str] = LOOPBACK_HOSTS, *, now: datetime | None = None) -> LoopbackPKI:
    """A fresh CA and a server certificate for ``hosts`` (IP literals become IP SANs)."""
    start = (now or datetime.now(UTC)) - timedelta(hours=1)
    end = start + timedelta(days=2)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "patchlevel-test-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    ca = KeyPair(ca_cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))
    partial = LoopbackPKI(ca=ca, server=ca, not_before=start, not_after=end)
    server = _issue(
        partial,
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
        extended_usage=ExtendedKeyUsageOID.SERVER_AUTH,
        alt_names=[_alt_name(host) for host in hosts],
    )
    return LoopbackPKI(ca=ca, server=server, not_before=start, not_after=end)


def _issue(
    pki: LoopbackPKI,
    subject: x509.Name,
    *,
    extended_usage: x509.ObjectIdentifier,
    alt_names: list[x509.GeneralName] | None,
) -> KeyPair:
    ca_key = serialization.load_pem_private_key(pki.ca.key_pem, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate(pki.ca.cert_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(pki.not_before)
        .not_valid_after(pki.not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([extended_usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
