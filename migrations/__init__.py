"""Database migrations, one per change, written by `tortoise makemigrations`."""
