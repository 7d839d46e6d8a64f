"""Customer 360 profiles, the identity graph and merging, traits, consent records."""
