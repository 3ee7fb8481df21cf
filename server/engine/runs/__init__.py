"""``runs``: what the engines that make several calls per request (``consensus``, ``solve``) share.

The modules: :mod:`.calls` (each call admitted under the run's cost cap and the budgets, made through the delegate
engine's ``try_model``, and recorded), :mod:`.cap` (the run's cost cap), :mod:`.ledger` (the rows of one run,
written at once). Neither engine imports the other; both import this. Nothing is imported here.
"""
