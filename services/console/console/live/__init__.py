"""Live updates for the console's screens: events from NATS, per person, to the browser as server-sent events.

A screen first loads its state from the services' APIs, then listens to ``GET /live?topic=...&site=...`` and
re-fetches the section an event affects. The stream is a hint to reload, never the data itself: it carries
the event's type and ids only, and a section always asks the service (with the person's token) what is true.

How a template listens (htmx and its SSE extension, both vendored; the page still works without them)::

    {% block head %}<script src="/static/vendor/htmx-ext-sse-2.2.3.js" defer></script>{% endblock %}
    <div hx-ext="sse" sse-connect="/live?topic=requests&site=harbour">
      <section hx-get="/my-screen/part?site=harbour" hx-trigger="sse:ready, sse:requests delay:150ms"
               hx-sync="this:queue last">...</section>
    </div>

Each topic (``console.live.topics.TOPICS``) is an SSE event name; ``ready`` comes once the subscriptions
exist, and again after every reconnect, so a section listening to ``sse:ready`` reloads whatever it may have
missed meanwhile (between the page's load and the subscription, or while the connection was down).
Everything is subscribed to the person's sites only (and their department, for a worker): one filtered
consumer per event type and site, opened for this stream alone and gone when it ends.
"""
