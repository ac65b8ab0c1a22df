"""InspeXtor cloud bridge: connects a Home Assistant home to AWS IoT Core."""

__version__ = "0.1.0"
