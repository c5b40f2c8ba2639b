"""Process owners: deployed versions with their cases, upload, view and download."""
from __future__ import annotations

import io

from .helpers import LOOP_WITH_LAYOUT, STRANGER, post, text

LOOP = LOOP_WITH_LAYOUT.read_bytes()


def upload(client, *files: tuple[str, bytes]):
    return post(client, "/processes", {"bpmn": [(io.BytesIO(data), name) for name, data in files]},
                token_from="/processes", content_type="multipart/form-data")


def test_the_page_lists_versions_and_their_cases(client_for, case):
    page = text(client_for("admin").get("/processes"))
    assert "<caption>Review loop (<code>review_loop</code>)</caption>" in page
    assert "<td>1 (latest)</td>" in page and "<td>tester</td>" in page
    assert "<td>1</td>\n        <td>1</td>" in page  # one running case, one in all


def test_uploading_a_changed_diagram_deploys_a_new_version(client_for, case):
    client = client_for("admin")
    response = upload(client, ("review_loop.bpmn", LOOP.replace(b'name="Review the measure"', b'name="Review it"')))
    assert response.location == "/processes"
    page = text(client.get("/processes"))
    assert "review_loop version 2 deployed." in page and "<td>2 (latest)</td>" in page
    assert "<td>0</td>\n        <td>0</td>" in page  # nothing on version 2 yet


def test_uploading_the_same_content_changes_nothing(client_for, case):
    client = client_for("admin")
    upload(client, ("review_loop.bpmn", LOOP))
    assert "review_loop version 1 unchanged" in text(client.get("/processes"))


def test_problems_are_shown_one_per_line_with_file_and_element(client_for, case):
    broken = LOOP.replace(b'candidateGroups="master"', b'candidateGroups="wizard"').replace(
        b'camunda:formRef="review_decision"', b'camunda:formRef="no_such_form"')
    response = upload(client_for("admin"), ("review_loop.bpmn", broken))
    assert response.status_code == 422
    page = text(response)
    assert "Not deployed: 2 problems" in page
    assert "<li><code>review_loop.bpmn</code>, element <code>Review</code>: unknown role &#39;wizard&#39;</li>" in page
    assert "form &#39;no_such_form&#39; not found in forms/</li>" in page


def test_only_bpmn_files_are_accepted(client_for):
    response = upload(client_for("admin"), ("notes.txt", b"hello"))
    assert response.status_code == 422 and "Choose one or more .bpmn files." in text(response)
    response = post(client_for("admin"), "/processes", {}, token_from="/processes")
    assert response.status_code == 422


def test_view_and_download_a_version(client_for, case):
    client = client_for("admin")
    page = text(client.get("/processes/review_loop/v1"))
    assert "<h1>Review loop, version 1</h1>" in page and 'data-url="/processes/review_loop/v1/source.bpmn"' in page
    download = client.get("/processes/review_loop/v1/source.bpmn")
    assert download.data == LOOP
    assert download.headers["Content-Disposition"] == 'attachment; filename="review_loop-v1.bpmn"'
    assert client.get("/processes/review_loop/v9").status_code == 404


def test_only_process_owners_may_use_the_page(client_for, case):
    for username in ("master", STRANGER):
        client = client_for(username)
        for path in ("/processes", "/processes/review_loop/v1", "/processes/review_loop/v1/source.bpmn"):
            assert client.get(path).status_code == 403
        response = post(client, "/processes", {"bpmn": (io.BytesIO(LOOP), "review_loop.bpmn")},
                        content_type="multipart/form-data")
        assert response.status_code == 403
    assert "Processes" not in text(client_for("master").get("/"))


def test_upload_needs_the_csrf_token(client_for):
    response = client_for("admin").post("/processes", data={"bpmn": (io.BytesIO(LOOP), "review_loop.bpmn")},
                                        content_type="multipart/form-data")
    assert response.status_code == 400
