"""What providers are, as data: the kinds (``kinds.py``) and the named presets (``presets.py``).

Core: the config validates against these tables, so they import nothing above the core modules.
"""
