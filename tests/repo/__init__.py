"""Static checks of the repository's metadata: the add-on, the AWS template, HACS."""
