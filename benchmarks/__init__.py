"""National-scale benchmarks (issue 7): app time vs the floor it cannot beat. See README.md."""
