"""CMS (PKCS#7) enveloped data to the municipality's X.509 certificate, as KS Fiks uses:
RSA key transport to the certificate's key, AES-256-CBC for the content (``cryptography``'s
``PKCS7EnvelopeBuilder``; only an RSA certificate can be a recipient there)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7


def load_certificate(pem: bytes) -> x509.Certificate:
    cert = x509.load_pem_x509_certificate(pem)
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise ValueError("the municipality's certificate must hold an RSA key")
    return cert


def seal(content: bytes, certificate: x509.Certificate) -> bytes:
    """``content`` as DER CMS EnvelopedData that only the certificate's private key opens."""
    return (pkcs7.PKCS7EnvelopeBuilder().set_data(content)
            .set_content_encryption_algorithm(algorithms.AES256)
            .add_recipient(certificate)
            .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))


def open_sealed(der: bytes, certificate: x509.Certificate,
                private_key: rsa.RSAPrivateKey) -> bytes:
    """The receiving side (the stand-in, the municipality)."""
    return pkcs7.pkcs7_decrypt_der(der, certificate, private_key, [])
