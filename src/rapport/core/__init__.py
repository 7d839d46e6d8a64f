"""Domain-free toolkit: database, repositories, jobs, realtime hub, crypto, clock, ids."""
