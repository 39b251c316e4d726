"""Pages of the workflow engine: my tasks, the task and instance pages, templates (editor and
preview), general requests and delegations.

Thin: parse the request, check the policy (``workflows.permissions``), call one service or selector,
render. A refused action is a 403 page with the reason; a lost race (``mops.errors.Conflict``) is a
message on the page the user came from.
"""

from contextlib import suppress
from itertools import groupby

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mops.errors import Conflict
from mops.forms import add_service_errors
from workflows import forms, registry, selectors, services, subjects
from workflows import permissions as policy
from workflows.models import (
    OPEN_INSTANCE_STATES,
    InstanceStatus,
    StepKind,
    StepStatus,
    StepTask,
    TemplateStatus,
    WorkflowInstance,
    WorkflowTemplate,
)

# The buttons of the action form: (action, label, Bootstrap button class).
ACTIONS = {
    StepKind.TASK: [("complete", "Complete", "btn-success")],
    StepKind.APPROVAL: [
        ("approve", "Approve", "btn-success"),
        ("reject", "Reject", "btn-danger"),
        ("return", "Send back for changes", "btn-outline-secondary"),
    ],
}
DONE = {"complete": "completed", "approve": "approved", "reject": "rejected", "return": "sent back"}


def _forbid_unless(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _subject_url(instance: WorkflowInstance) -> str | None:
    """The subject's own page, when its app registered one (and the subject still exists)."""
    try:
        url_of = registry.get(instance.subject_type).url_of
    except LookupError:
        return None
    if url_of is None:
        return None
    try:
        return url_of(instance.subject)
    except ObjectDoesNotExist:
        return None


def _instance_context(request, instance: WorkflowInstance) -> dict:
    """What every page showing one instance needs: its strip, history, subject link, and the
    resubmit / cancel forms the user is entitled to."""
    is_open = instance.status in OPEN_INSTANCE_STATES
    return {
        "instance": instance,
        "steps": selectors.instance_steps(instance),
        "history": selectors.instance_history(instance),
        "subject_url": _subject_url(instance),
        "can_resubmit": instance.status == InstanceStatus.RETURNED and instance.started_by_id == request.user.pk,
        "can_cancel": is_open and policy.can_cancel(request.user, instance),
        "resubmit_form": forms.CommentForm(prefix="resubmit"),
        "cancel_form": forms.CommentForm(prefix="cancel"),
    }


def _instance_post(request, instance: WorkflowInstance, next_url: str):
    """Resubmit or cancel ``instance`` (the services check who may), then back to ``next_url``."""
    operation = request.POST.get("operation")
    service = {"resubmit": services.instance_resubmit, "cancel": services.instance_cancel}.get(operation)
    if service is None:
        return HttpResponseBadRequest("Unknown operation.")
    form = forms.CommentForm(request.POST, prefix=operation)
    form.is_valid()  # the comment is optional: the form is always valid
    try:
        service(actor=request.user, instance=instance, comment=form.cleaned_data.get("comment", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except Conflict as conflict:
        messages.error(request, str(conflict))
    else:
        done = "resubmitted" if operation == "resubmit" else "cancelled"
        messages.success(request, f"Workflow on “{instance.subject_repr}” {done}.")
    return redirect(next_url)


# --- my tasks -------------------------------------------------------------------------------


@require_GET
def my_tasks(request):
    form = forms.TaskFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    tasks = selectors.my_tasks(
        request.user,
        kind=filters.get("kind", ""),
        overdue=filters.get("overdue", False),
        subject_type=filters.get("subject_type", ""),
    )
    page = Paginator(tasks, 25).get_page(request.GET.get("page"))
    started = selectors.open_instances_started_by(request.user)
    return render(
        request,
        "workflows/my_tasks.html",
        {"form": form, "page": page, "started": started, "now": timezone.now()},
    )


# --- one task -------------------------------------------------------------------------------


def _visible_task(request, pk) -> StepTask:
    """The task, or 404 when its instance is not visible to the user (ids are guessable)."""
    visible = policy.instances_visible_to(request.user).values("pk")
    return get_object_or_404(
        StepTask.objects.select_related(
            "instance__template", "instance__started_by", "instance__team", "template_step", "decided_by", "decided_for"
        ),
        pk=pk,
        instance_id__in=visible,
    )


def _task_page(request, task: StepTask, *, action_form=None, reassign_form=None):
    instance = task.instance
    actionable = task.status == StepStatus.ACTIVE and instance.status == InstanceStatus.RUNNING
    refusal = None
    if actionable:
        # Whether one may act does not depend on which of the step kind's actions it is.
        refusal = policy.act_refusal(request.user, task, ACTIONS[task.kind][0][0])
    may_reassign = task.status == StepStatus.ACTIVE and policy.can_reassign(request.user, task)
    context = {
        **_instance_context(request, instance),
        "task": task,
        "actionable": actionable,
        "refusal": refusal,
        "actions": ACTIONS[task.kind] if actionable and refusal is None else [],
        "action_form": action_form or forms.ActionForm(),
        "reassign_form": (reassign_form or forms.ReassignForm()) if may_reassign else None,
        "now": timezone.now(),
    }
    return render(request, "workflows/task_detail.html", context)


@require_http_methods(["GET", "POST"])
def task_detail(request, pk):
    task = _visible_task(request, pk)
    if request.method == "GET":
        return _task_page(request, task)
    form = forms.ActionForm(request.POST)
    action = request.POST.get("action", "")
    if form.is_valid():
        try:
            services.task_act(actor=request.user, task=task, action=action, comment=form.cleaned_data["comment"])
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as conflict:
            messages.error(request, str(conflict))
            return redirect("workflows:task-detail", pk=task.pk)
        else:
            messages.success(request, f"“{task.name}” on “{task.instance.subject_repr}” {DONE[action]}.")
            return redirect("workflows:my-tasks")
    return _task_page(request, task, action_form=form)


@require_POST
def task_reassign(request, pk):
    task = _visible_task(request, pk)
    _forbid_unless(policy.can_reassign(request.user, task), "Only ops admins and team leads can reassign steps.")
    form = forms.ReassignForm(request.POST)
    if form.is_valid():
        to_user = form.cleaned_data["to_user"]
        try:
            services.task_reassign(actor=request.user, task=task, to_user=to_user, comment=form.cleaned_data["comment"])
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as conflict:
            messages.error(request, str(conflict))
            return redirect("workflows:task-detail", pk=task.pk)
        else:
            messages.success(request, f"“{task.name}” now waits for {to_user.get_full_name() or to_user.username}.")
            return redirect("workflows:task-detail", pk=task.pk)
    return _task_page(request, task, reassign_form=form)


# --- one instance ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def instance_detail(request, pk):
    instance = get_object_or_404(
        policy.instances_visible_to(request.user).select_related("template", "started_by", "team"), pk=pk
    )
    if request.method == "POST":
        return _instance_post(request, instance, request.path)
    return render(request, "workflows/instance_detail.html", _instance_context(request, instance))


# --- templates ------------------------------------------------------------------------------


@require_GET
def template_list(request):
    _forbid_unless(policy.can_view_templates(request.user), "You cannot view workflow templates.")
    include_retired = "retired" in request.GET
    return render(
        request,
        "workflows/template_list.html",
        {
            "templates": selectors.template_list(include_retired=include_retired),
            "include_retired": include_retired,
            "can_manage": policy.can_manage_templates(request.user),
        },
    )


def _latest_version_or_404(slug) -> WorkflowTemplate:
    template = WorkflowTemplate.objects.filter(slug=slug).order_by("-version").first()
    if template is None:
        raise Http404("No such workflow template.")
    return template


def _split_template_errors(form, error: ValidationError) -> list[str]:
    """The services' "Step N: …" messages (shown above the rows); anything else onto the form."""
    if not hasattr(error, "error_dict"):
        add_service_errors(form, error)
        return []
    errors = dict(error.message_dict)
    step_errors = errors.pop("steps", [])
    if errors:
        add_service_errors(form, ValidationError(errors))
    return step_errors


def _with_more_rows(data, rows=3):
    """The posted formset with ``rows`` more blank rows: adding rows works without JavaScript."""
    data = data.copy()
    key = f"{forms.STEPS_PREFIX}-TOTAL_FORMS"
    with suppress(ValueError):  # a tampered management form: the formset reports it
        data[key] = str(int(data.get(key, 0)) + rows)
    return data


def _render_editor(request, *, form, formset, step_errors, template=None):
    return render(
        request,
        "workflows/template_form.html",
        {
            "form": form,
            "formset": formset,
            "step_errors": step_errors,
            "template": template,
            "in_use": template is not None and template.instances.exists(),
        },
    )


@require_http_methods(["GET", "POST"])
def template_create(request):
    _forbid_unless(policy.can_manage_templates(request.user), "Only ops admins can manage workflow templates.")
    FormSet = forms.step_formset_class(extra=4)
    step_errors = []
    if request.method == "POST" and "add_rows" in request.POST:
        form = forms.TemplateForm(initial=request.POST.dict())
        formset = FormSet(_with_more_rows(request.POST), prefix=forms.STEPS_PREFIX)
        return _render_editor(request, form=form, formset=formset, step_errors=[])
    form = forms.TemplateForm(request.POST or None)
    formset = FormSet(request.POST or None, prefix=forms.STEPS_PREFIX)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        try:
            template = services.template_create(
                actor=request.user,
                name=data["name"],
                subject_type=data["subject_type"],
                description=data["description"],
                steps=formset.steps(),
            )
        except ValidationError as error:
            step_errors = _split_template_errors(form, error)
        else:
            messages.success(request, f"Template “{template.name}” created (version 1).")
            return redirect("workflows:template-detail", slug=template.slug)
    return _render_editor(request, form=form, formset=formset, step_errors=step_errors)


@require_http_methods(["GET", "POST"])
def template_edit(request, slug):
    _forbid_unless(policy.can_manage_templates(request.user), "Only ops admins can manage workflow templates.")
    template = _latest_version_or_404(slug)
    if template.status != TemplateStatus.ACTIVE:
        messages.error(request, f"“{template.name}” is {template.get_status_display().lower()}; it cannot be edited.")
        return redirect("workflows:template-detail", slug=slug)
    FormSet = forms.step_formset_class(extra=2)
    formset_kwargs = {"prefix": forms.STEPS_PREFIX, "subject_type": template.subject_type}
    initial = {"name": template.name, "description": template.description, "subject_type": template.subject_type}
    step_errors = []
    if request.method == "POST" and "add_rows" in request.POST:
        form = forms.TemplateForm(initial={**initial, **request.POST.dict()}, editing=True)
        formset = FormSet(_with_more_rows(request.POST), **formset_kwargs)
        return _render_editor(request, form=form, formset=formset, step_errors=[], template=template)
    if request.method == "POST":
        form = forms.TemplateForm(request.POST, initial=initial, editing=True)
        formset = FormSet(request.POST, **formset_kwargs)
    else:
        form = forms.TemplateForm(initial=initial, editing=True)
        formset = FormSet(initial=forms.initial_steps(template), **formset_kwargs)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        try:
            saved = services.template_update(
                actor=request.user,
                template=template,
                steps=formset.steps(),
                name=data["name"],
                description=data["description"],
            )
        except ValidationError as error:
            step_errors = _split_template_errors(form, error)
        else:
            if saved.pk == template.pk:
                messages.success(request, f"Version {saved.version} saved.")
            else:
                running = template.instances.filter(status__in=OPEN_INSTANCE_STATES).count()
                messages.success(
                    request,
                    f"Saved as version {saved.version}; {running} running instance{'s' if running != 1 else ''} "
                    f"keep{'s' if running == 1 else ''} version {template.version}.",
                )
            return redirect("workflows:template-detail", slug=saved.slug)
    return _render_editor(request, form=form, formset=formset, step_errors=step_errors, template=template)


@require_GET
def template_detail(request, slug):
    _forbid_unless(policy.can_view_templates(request.user), "You cannot view workflow templates.")
    versions = list(selectors.template_versions(slug).select_related("created_by"))
    if not versions:
        raise Http404("No such workflow template.")
    template = next((v for v in versions if v.status == TemplateStatus.ACTIVE), versions[0])
    steps = list(template.steps.select_related("user").order_by("position"))
    stages = [(stage, list(group)) for stage, group in groupby(steps, key=lambda s: s.stage)]
    try:
        subject_type = registry.get(template.subject_type)
    except LookupError:
        subject_type = None
    preview_form, preview_rows = None, None
    if subject_type is not None:
        preview_form = forms.PreviewForm(request.GET if "preview" in request.GET else None, subject_type=subject_type)
        if preview_form.is_bound and preview_form.is_valid():
            team, requester = preview_form.cleaned_data["team"], preview_form.cleaned_data["requester"]
            preview_rows = selectors.preview(
                template,
                context=preview_form.context(),
                team_id=team.pk if team else None,
                requester_id=requester.pk if requester else None,
            )
    return render(
        request,
        "workflows/template_detail.html",
        {
            "template": template,
            "versions": versions,
            "stages": stages,
            "subject_type": subject_type,
            "preview_form": preview_form,
            "preview_rows": preview_rows,
            "can_manage": policy.can_manage_templates(request.user),
        },
    )


@require_POST
def template_retire(request, slug):
    _forbid_unless(policy.can_manage_templates(request.user), "Only ops admins can manage workflow templates.")
    template = _latest_version_or_404(slug)
    try:
        services.template_retire(actor=request.user, template=template)
    except Conflict as conflict:
        messages.error(request, str(conflict))
    else:
        messages.success(request, f"“{template.name}” retired: it starts no new workflows; running ones carry on.")
    return redirect("workflows:template-detail", slug=slug)


# --- general requests -----------------------------------------------------------------------


@require_GET
def request_list(request):
    requests = policy.requests_visible_to(request.user).select_related("team", "requested_by")
    page = Paginator(requests, 25).get_page(request.GET.get("page"))
    return render(request, "workflows/request_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
def request_create(request):
    form = forms.RequestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = subjects.request_create(
                actor=request.user,
                template=data["template"],
                title=data["title"],
                team=data["team"],
                description=data["description"],
                amount=data["amount"],
                currency=data["currency"].code if data["currency"] else "",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as denied:
            form.add_error(None, str(denied))
        else:
            messages.success(request, f"“{created.title}” sent for approval.")
            return redirect("workflows:request-detail", pk=created.pk)
    return render(request, "workflows/request_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def request_detail(request, pk):
    subject = get_object_or_404(policy.requests_visible_to(request.user).select_related("team", "requested_by"), pk=pk)
    instances = list(selectors.instances_of(subject))
    current = instances[0] if instances else None
    if request.method == "POST":
        if current is None:
            return HttpResponseBadRequest("This request has no workflow.")
        return _instance_post(request, current, request.path)
    context = {"subject": subject, "earlier": instances[1:]}
    if current is not None:
        context.update(_instance_context(request, current))
    return render(request, "workflows/request_detail.html", context)


# --- delegations ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def delegation_list(request):
    form = forms.DelegationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            delegation = services.delegation_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Delegation saved: {delegation}.")
            return redirect("workflows:delegation-list")
    delegations = policy.delegations_visible_to(request.user).select_related("delegator", "delegate", "created_by")
    return render(
        request,
        "workflows/delegation_list.html",
        {"form": form, "delegations": delegations, "today": timezone.localdate()},
    )
