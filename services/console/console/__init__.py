"""The console: staff screens over the five services' APIs, with the signed-in person's own token."""
