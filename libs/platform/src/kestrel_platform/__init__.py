"""Settings, logging, tracing, metrics, health and lifecycle shared by every service.

Import from the submodules (`kestrel_platform.settings`, `.logging`, `.tracing`, `.metrics`,
`.health`, `.lifecycle`); this package module stays empty so importing one piece stays cheap.
"""
