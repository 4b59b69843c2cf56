"""The official FPDM release (dhlee-work/FPDM): read its Lightning checkpoints safely and convert them to this project's format."""
