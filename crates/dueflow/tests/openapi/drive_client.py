"""Drives a client generated from the OpenAPI document, unedited: creates
a task, finds it in the list, completes it. Run by
crates/dueflow/tests/openapi_fuzz.rs as `python drive_client.py CLIENT_DIR
BASE_URL TOKEN`, where CLIENT_DIR holds the generated `client` package."""

import sys

sys.path.insert(0, sys.argv[1])

from client import AuthenticatedClient  # noqa: E402
from client.api.tasks import complete_task, create_task, list_tasks  # noqa: E402
from client.models import NewTaskBody, Task, TaskPage  # noqa: E402

api = AuthenticatedClient(base_url=sys.argv[2], token=sys.argv[3])

created = create_task.sync(client=api, body=NewTaskBody(title="Generated client", priority="high", tags=["gen"]))
assert isinstance(created, Task), created
assert created.title == "Generated client" and created.status == "open", created

page = list_tasks.sync(client=api, q="tag:gen", limit=10)
assert isinstance(page, TaskPage), page
assert [t.id for t in page.items] == [created.id], page

done = complete_task.sync(client=api, id=created.id)
assert isinstance(done, Task), done
assert done.status == "done" and done.completed_at is not None, done
print("generated client: created, listed and completed", done.id)
