"""Keeps a long-running workflow's task tree bounded.

A loop drawn as a gateway back-edge adds one level to SpiffWorkflow's task tree per pass
(spiffworkflow-notes item 1): state and step time grow without limit and iteration stops
at depth 1000. After every step we cut the finished chain above the lowest common
ancestor of the unfinished tasks and hang that ancestor directly under the root. The
history cut away is already in the case's event log. This is safe when no open split or
join spans the cut, which holds because the ancestor of every open task is kept.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.util.task import TaskState


def _path_from_root(task) -> list:
    path = []
    while task is not None:
        path.append(task)
        task = task.parent
    return path[::-1]


def _lowest_common_ancestor(tasks):
    paths = [_path_from_root(task) for task in tasks]
    common = None
    for level in zip(*paths):
        if any(task.id != level[0].id for task in level):
            break
        common = level[0]
    return common


def _descendant_ids(task) -> set:
    found, stack = set(), [task]
    while stack:
        current = stack.pop()
        found.add(current.id)
        stack.extend(current.children)
    return found


def prune(workflow) -> int:
    """Cut finished history from ``workflow`` and its subprocesses; return tasks removed."""
    removed = _prune_one(workflow)
    for subprocess in list(workflow.subprocesses.values()):
        removed += _prune_one(subprocess)
    return removed


def _is_end_placeholder(task) -> bool:
    """An end join left waiting under a finished branch (and the End predicted below it):
    it only stands for the process end, so it must not pin the cut."""
    def waiting_end_join(t):
        return t is not None and isinstance(t.task_spec, _EndJoin) and t.state == TaskState.WAITING
    return waiting_end_join(task) or waiting_end_join(task.parent)


def _prune_one(workflow) -> int:
    root = workflow.task_tree
    unfinished = [t for t in workflow.tasks.values()
                  if t.has_state(TaskState.NOT_FINISHED_MASK) and not _is_end_placeholder(t)]
    if not unfinished:
        return 0
    ancestor = _lowest_common_ancestor(unfinished)
    if ancestor is None or ancestor is root or ancestor.parent is root:
        return 0
    ancestor.parent = root
    root.children = [ancestor]
    keep = _descendant_ids(root)
    doomed = [task_id for task_id in workflow.tasks if task_id not in keep]
    for task_id in doomed:
        del workflow.tasks[task_id]
    return len(doomed)
