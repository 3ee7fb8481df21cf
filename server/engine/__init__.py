"""The engines: delegate, consensus and solve, and what they share (the runtime, the recorder, records)."""
