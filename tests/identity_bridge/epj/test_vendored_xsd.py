"""The vendored schemas are the official files, unchanged, and load offline."""

from __future__ import annotations

import pytest

from identity_bridge.epj import schemas

from .conftest import SHARED_KITH

SHARED_XSD = SHARED_KITH / "xsd"


@pytest.mark.skipif(not SHARED_XSD.is_dir(), reason="shared/standards/kith is not present")
def test_vendored_xsds_are_byte_identical_to_shared() -> None:
    ours = sorted(p.name for p in schemas.XSD_DIR.glob("*.xsd"))
    theirs = sorted(p.name for p in SHARED_XSD.glob("*.xsd"))
    assert ours == theirs
    for name in ours:
        assert (schemas.XSD_DIR / name).read_bytes() == (SHARED_XSD / name).read_bytes(), name


def test_schemas_compile_without_network() -> None:
    # The parser has no_network=True: a remote import would fail to compile here.
    assert schemas.msghead_schema() is not None
    assert schemas.apprec_schema() is not None
