"""The protocol participants as ASGI applications, and a way to run them."""
