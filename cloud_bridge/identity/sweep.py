"""Remove what a killed provisioning or rotation left behind in the identity folder."""

from __future__ import annotations

from cloud_bridge.identity.state import DOC_NAME, IdentityDoc, IdentityStore


def named_files(doc: IdentityDoc) -> set[str]:
    """Every file the document still needs."""
    names = {DOC_NAME}
    if doc.active is not None:
        names |= {doc.active.cert_file, doc.active.key_file}
    rotation = doc.rotation
    names |= {n for n in (rotation.key_file, rotation.cert_file, *rotation.old_files) if n}
    return names


def sweep(store: IdentityStore, doc: IdentityDoc) -> list[str]:
    """Delete certificate and key files (and stale temporaries) nobody names; return them."""
    keep = named_files(doc)
    removed: list[str] = []
    if not store.directory.is_dir():
        return removed
    for path in store.directory.iterdir():
        if path.is_file() and path.name not in keep:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return sorted(removed)
