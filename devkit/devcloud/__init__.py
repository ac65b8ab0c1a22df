"""The dev cloud: AWS IoT Core's rules and the InspeXtor cloud on a local broker.

`python -m devkit.devcloud serve ...` runs it; `... mobile ...` is the mobile app.
"""

from .service import ContractSpec, DevCloud

__all__ = ["ContractSpec", "DevCloud"]
