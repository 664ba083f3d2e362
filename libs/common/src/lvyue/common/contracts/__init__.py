"""Data contracts shared by every lvyue service: the shapes that travel inside events."""
