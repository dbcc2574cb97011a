#!/usr/bin/env python3
"""The tests' emulated AWS: moto server on loopback, plus a recording handler for the instance-refresh
calls that moto 5.2 does not implement (moto/autoscaling/responses.py has no StartInstanceRefresh,
DescribeInstanceRefreshes, CancelInstanceRefresh or RollbackInstanceRefresh).

The handler stores every such request and answers in the shape of the Auto Scaling API reference
(query protocol, XML). How a refresh ends is the test's choice (POST /_emulated/refresh-outcome); when
it ends "Successful", the group moves to the desired launch template version, as AWS does: "Amazon EC2
Auto Scaling updates the Auto Scaling group's configuration to match the desired configuration" only
after the refresh succeeds (UserGuide/instance-refresh-rollback.html and StartInstanceRefresh). Rules of
the request (preferences, rollback prerequisites) are not checked here: the TypeScript tests check the
recorded requests against managed/aws-rules.ts, the project's one list of those rules.

What a refresh goes through, one phase per DescribeInstanceRefreshes call (virtual time: no real
CheckpointDelay or BakeTime passes), as AWS documents it:
- one "replacing" phase per checkpoint of CheckpointPercentages, PercentageComplete at that checkpoint
  ("the first checkpoint is reached when 20 percent of instances are new", asg-adding-checkpoints-
  instance-refresh.html), and a "checkpoint" phase (the CheckpointDelay) after each but the last;
- "Baking - Waiting the specified bake time after an instance refresh has finished updating instances"
  (InstanceRefresh.Status) when BakeTime > 0; then Successful.
- An alarm of its AlarmSpecification in ALARM at any phase fails the refresh, and with AutoRollback rolls it
  back: "Amazon EC2 Auto Scaling automatically reverses what was deployed if the instance refresh fails for
  some reason or if any CloudWatch alarms you specify go into the ALARM state" (instance-refresh-rollback.html).
  AWS does not document whether alarms are read during the checkpoint delay and the bake time; this
  emulation reads them at every phase, which is what BakeTime is for ("to wait at the end of an instance
  refresh before the instance refresh is considered complete", RefreshPreferences).
- StartInstanceRefresh fails when an alarm of its AlarmSpecification is in ALARM or INSUFFICIENT_DATA
  (instance-refresh-rollback.html, "Considerations"). The error code AWS uses is not documented; this one
  answers ValidationError.
The alarm itself is the test's scenario: moto never evaluates metrics, so the outcome may name an alarm
and the phase at which CloudWatch would have put it in ALARM ({"alarm": {"name": ..., "at": "checkpoint:1"}});
the emulator sets it there (moto's SetAlarmState) and the refresh then reacts as above.

CompleteLifecycleAction (moto 5.2 has none) is recorded and checked against moto's lifecycle hooks of
the group: an unknown hook or group is a ValidationError, as are a result other than CONTINUE or ABANDON.
A pending action exists only for instances the test declares (POST /_emulated/pending-launch); for any
other instance the answer is AWS's "No active Lifecycle Action found with instance ID".
GET /latest/... answers as the instance metadata service (IMDSv2 token, instance-id,
autoscaling/target-lifecycle-state) for the instance the test declares in /_emulated/imds.

Usage: emulated_aws.py [--port N]   (0, the default, picks a free port; the first line printed is the URL)
Control, all JSON:
  GET  /_emulated/requests           every recorded instance-refresh request, oldest first
  POST /_emulated/refresh-outcome    {"group": "<name>" (optional), "status": "Successful" | "Failed" | "Cancelled"
                                      | "RollbackSuccessful" | "RollbackFailed", "steps": 2, "reason": "...",
                                      "error": {"code": ..., "message": ...}}
                                     applies to refreshes of that group (or of every group without one of
                                     its own) started from then on; "error" makes the next
                                     StartInstanceRefresh fail with that error instead
  POST /_emulated/reset              forgets recorded requests and refreshes
"""
import argparse
import io
import json
import sys
import threading
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from werkzeug.serving import make_server

from moto.autoscaling.models import FakeScalingPolicy, InstanceState, autoscaling_backends
from moto.autoscaling.responses import AutoScalingResponse
from moto.cloudwatch.models import cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.models.launch_templates import LaunchTemplateBackend
from moto.ec2.models.security_groups import SecurityGroupRule
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
ACTIONS = {"StartInstanceRefresh", "DescribeInstanceRefreshes", "CancelInstanceRefresh", "RollbackInstanceRefresh",
           "CompleteLifecycleAction"}
# DescribeInstanceRefreshes: statuses of a refresh that has not ended (API reference, InstanceRefresh.Status).
ACTIVE = {"Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"}


def answer_like_aws():
    """Where moto 5.2.5 answers differently from AWS in ways the provider reads back as a change, so that
    a plan right after an apply would never be empty. Each patch names the moto code and what AWS does.
    Nothing else of moto is changed; what moto fakes beyond this is listed in the lifecycle test."""

    # moto/autoscaling/responses.py create_auto_scaling_group and update_auto_scaling_group never read
    # DefaultInstanceWarmup, so DescribeAutoScalingGroups omits it; AWS stores it (CreateAutoScalingGroup,
    # "DefaultInstanceWarmup") and returns it (AutoScalingGroup.DefaultInstanceWarmup).
    def keep_warmup(original):
        def handler(self):
            result = original(self)
            warmup = self._get_int_param("DefaultInstanceWarmup")
            if warmup is not None:
                group = self.autoscaling_backend.autoscaling_groups[self._get_param("AutoScalingGroupName")]
                group.default_instance_warmup = warmup
            return result
        return handler

    AutoScalingResponse.create_auto_scaling_group = keep_warmup(AutoScalingResponse.create_auto_scaling_group)
    AutoScalingResponse.update_auto_scaling_group = keep_warmup(AutoScalingResponse.update_auto_scaling_group)

    # moto/autoscaling/responses.py never reads InstanceMaintenancePolicy either; AWS stores it
    # (CreateAutoScalingGroup and UpdateAutoScalingGroup, "InstanceMaintenancePolicy") and returns it
    # (AutoScalingGroup.InstanceMaintenancePolicy).
    def keep_maintenance_policy(original):
        def handler(self):
            result = original(self)
            policy = self._get_param("InstanceMaintenancePolicy")
            if policy:
                group = self.autoscaling_backend.autoscaling_groups[self._get_param("AutoScalingGroupName")]
                group.instance_maintenance_policy = {k: int(v) for k, v in policy.items() if v not in (None, "")}
            return result
        return handler

    AutoScalingResponse.create_auto_scaling_group = keep_maintenance_policy(AutoScalingResponse.create_auto_scaling_group)
    AutoScalingResponse.update_auto_scaling_group = keep_maintenance_policy(AutoScalingResponse.update_auto_scaling_group)

    # moto/autoscaling/models.py LifecycleHook hard-codes a RoleARN and a NotificationTargetARN ("TODO: These
    # were hardcoded in the original XML template"); AWS returns them only when the hook was given them
    # (PutLifecycleHook, RoleARN and NotificationTargetARN are optional).
    from moto.autoscaling.models import LifecycleHook
    hook_init = LifecycleHook.__init__

    def init_hook(self, *args, **kwargs):
        hook_init(self, *args, **kwargs)
        self.role_arn = None
        self.notification_target_arn = None

    LifecycleHook.__init__ = init_hook

    # moto/autoscaling/models.py InstanceState.launch_template reports, for every instance of a group,
    # the template's *default* version, whatever the instance was launched from; AWS reports the
    # version each instance was launched with (DescribeAutoScalingGroups, Instance.LaunchTemplate), which
    # is how managed/rollout.sh tells instances still on an older version. Here an instance keeps the
    # group's version at its launch (a number, $Latest and $Default resolved), and a successful refresh
    # moves the group's instances to the desired version (Emulated.apply_desired: AWS replaced them).
    def version_number(template, version):
        if version == "$Latest":
            return str(template.latest_version_number)
        if version in (None, "$Default"):
            return str(template.default_version_number)
        return str(version)

    init_state = InstanceState.__init__

    def init_instance_state(self, *args, **kwargs):
        init_state(self, *args, **kwargs)
        group = self.auto_scaling_group
        template = getattr(group, "ec2_launch_template", None) if group is not None else None
        self.launched_version = version_number(template, group.launch_template_version) if template is not None else None

    def launched_template(self):
        group = self.auto_scaling_group
        if group is None or group.ec2_launch_template is None:
            return None
        template = group.ec2_launch_template
        return {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name,
                "Version": getattr(self, "launched_version", None) or version_number(template, group.launch_template_version)}

    InstanceState.__init__ = init_instance_state
    InstanceState.launch_template = property(launched_template)

    # moto/autoscaling/models.py FakeScalingPolicy keeps no Enabled flag and answers an empty
    # PredictiveScalingConfiguration for every policy; AWS: "Enabled ... The default is true"
    # (PutScalingPolicy) and a predictive configuration only for PredictiveScaling policies.
    FakeScalingPolicy.enabled = True
    policy_init = FakeScalingPolicy.__init__

    def init_policy(self, *args, **kwargs):
        policy_init(self, *args, **kwargs)
        if not self.predictive_scaling_configuration:
            self.predictive_scaling_configuration = None

    FakeScalingPolicy.__init__ = init_policy

    # moto/ec2/responses/launch_templates.py create_launch_template copies the template's own tags
    # (TagSpecifications of ResourceType launch-template) into LaunchTemplateData; AWS keeps them apart:
    # CreateLaunchTemplate.TagSpecifications tags the template, LaunchTemplateData.TagSpecifications
    # tags what it launches (only instance, volume, network-interface, spot-instances-request).
    create_template = LaunchTemplateBackend.create_launch_template

    def create_launch_template(self, name, description, template_data, tag_spec):
        specs = template_data.get("TagSpecifications")
        if specs:
            template_data["TagSpecifications"] = [s for s in specs if s.get("ResourceType") != "launch-template"]
        return create_template(self, name, description, template_data, tag_spec)

    LaunchTemplateBackend.create_launch_template = create_launch_template

    # moto/ec2/models/security_groups.py SecurityGroupRule.description reads only a CIDR range's
    # Description, so a rule that references a security group loses its own; AWS returns it
    # (SecurityGroupRule.Description).
    # moto/ec2/models/instances.py run_instances takes a `resolve:ssm:<parameter>` image id literally;
    # EC2 resolves it when the instance starts ("The Systems Manager parameter will resolve to the ID of
    # the AMI at instance launch", EC2 API reference, ResponseLaunchTemplateData.ImageId).
    run_instances = InstanceBackend.run_instances

    def resolving_run_instances(self, image_id, *args, **kwargs):
        if isinstance(image_id, str) and image_id.startswith("resolve:ssm:"):
            from moto.ssm.models import ssm_backends
            parameter = ssm_backends[self.account_id][self.region_name].get_parameter(image_id[len("resolve:ssm:"):])
            if parameter is not None:
                image_id = parameter.value
        return run_instances(self, image_id, *args, **kwargs)

    InstanceBackend.run_instances = resolving_run_instances

    SecurityGroupRule.description = property(
        lambda self: self.ip_range.get("Description") or (self.source_group or {}).get("Description"))

    # moto/iam/policy_conditions.py evaluates StringEquals only and takes every other operator as
    # holding ("If the evaluation operation is not supported, ignore condition evaluation"), and moto
    # evaluates bucket policies for object calls (moto/s3/responses.py: "A bucket can deny all
    # actions"): a TLS-only Deny (Bool aws:SecureTransport "false") then refuses every GetObject,
    # HeadObject and PutObject. AWS's endpoints are HTTPS, which the CLI and the SDKs use; the emulator
    # is plain HTTP only because it listens on loopback. So here aws:SecureTransport is "true", and a
    # Bool condition that does not hold leaves its statement out, as in AWS: "All context keys in a
    # condition element block must resolve to true to invoke the desired Allow or Deny effect" (IAM
    # User Guide, reference_policies_multi-value-conditions.html).
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    statement_permits = IAMPolicyStatement.is_action_permitted

    def condition_applies(self, action, resource="*", principal=None, incoming_condition_values=None):
        values = {"aws:SecureTransport": "true", **(incoming_condition_values or {})}
        for key, expected in ((self._statement.get("Condition") or {}).get("Bool") or {}).items():
            if key in values and str(expected).lower() != values[key]:
                return PermissionResult.NEUTRAL
        return statement_permits(self, action, resource, principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = condition_applies


def decode_query(pairs):
    """Query-protocol parameters (A.B.member.1=x) -> nested dicts and lists."""
    root = {}
    for key, value in pairs:
        if key not in ("Action", "Version"):
            set_path(root, key.split("."), value)
    return root


def set_path(node, parts, value):
    head, rest = parts[0], parts[1:]
    if rest and rest[0] == "member":
        index = int(rest[1]) - 1
        items = node.setdefault(head, [])
        items.extend([None] * (index + 1 - len(items)))
        if len(rest) == 2:
            items[index] = value
        else:
            items[index] = items[index] or {}
            set_path(items[index], rest[2:], value)
    elif rest:
        set_path(node.setdefault(head, {}), rest, value)
    else:
        node[head] = value


def iso(ts):
    return ts.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Refreshes:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = []
        self.refreshes = []  # newest last
        self.outcomes = {None: {"status": "Successful", "steps": 2}}
        self.pending_launches = set()  # (group, instance id) with a lifecycle action waiting
        self.imds = {"instance-id": "i-0123456789abcdef0", "autoscaling/target-lifecycle-state": "InService"}

    def start(self, region, params):
        group_name = params.get("AutoScalingGroupName", "")
        backend = autoscaling_backends[DEFAULT_ACCOUNT_ID][region]
        if group_name not in backend.autoscaling_groups:
            return error("ValidationError", f"AutoScalingGroup name not found - {group_name}")
        outcome = self.outcomes.get(group_name, self.outcomes[None])
        error_spec = outcome.pop("error", None)
        if error_spec:
            return error(error_spec["code"], error_spec["message"])
        if any(r["group"] == group_name and r["status"] in ACTIVE for r in self.refreshes):
            return error("InstanceRefreshInProgress", f"An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
        prefs = params.get("Preferences", {})
        watched = [a for a in (prefs.get("AlarmSpecification", {}).get("Alarms") or []) if a]
        blocking = [f"{name} is in {state}" for name, state in self.alarm_states(region, watched) if state in ("ALARM", "INSUFFICIENT_DATA", "missing")]
        if blocking:
            return error("ValidationError", f"The instance refresh cannot start: alarm {', '.join(blocking)}")
        group = backend.autoscaling_groups[group_name]
        refresh = {
            "id": str(uuid.uuid4()),
            "group": group_name,
            "region": region,
            "status": "Pending",
            "percentage": 0,
            "start": datetime.now(timezone.utc),
            "end": None,
            "params": params,
            "plan": self.plan(outcome, prefs),
            "phases": [],
            "alarm": outcome.get("alarm"),
            "watched": watched,
            "auto_rollback": str(prefs.get("AutoRollback", "false")).lower() == "true",
            "to_update": len(group.instance_states),
            "reason": "",
        }
        self.refreshes.append(refresh)
        return ok("StartInstanceRefresh", f"<InstanceRefreshId>{refresh['id']}</InstanceRefreshId>")

    def alarm_states(self, region, names):
        alarms = cloudwatch_backends[DEFAULT_ACCOUNT_ID][region].alarms
        # An alarm that does not exist cannot be watched: AWS refuses the refresh (reported as missing).
        return [(name, alarms[name].state_value if name in alarms else "missing") for name in names]

    def plan(self, outcome, prefs):
        """The phases a refresh goes through, one per DescribeInstanceRefreshes call:
        (status, percentage, reason, phase name)."""
        final = outcome["status"]
        if final == "Successful":
            checkpoints = [int(p) for p in (prefs.get("CheckpointPercentages") or [])] or [100]
            plan = []
            for i, percentage in enumerate(checkpoints):
                plan.append(("InProgress", percentage, "", f"replacing:{i + 1}"))
                if i < len(checkpoints) - 1:
                    plan.append(("InProgress", percentage, "", f"checkpoint:{i + 1}"))
            if int(prefs.get("BakeTime") or 0) > 0:
                plan.append(("Baking", 100, "", "bake"))
            plan.append(("Successful", 100, "", "done"))
            return plan
        steps = int(outcome.get("steps", 2))
        reason = outcome.get("reason", "")
        plan = [("InProgress", min(100, (i + 1) * 100 // (steps + 1)), "", f"step:{i + 1}") for i in range(steps)]
        if final.startswith("Rollback"):
            plan.append(("RollbackInProgress", plan[-1][1] if plan else 0, reason, "rollback"))
        plan.append((final, plan[-1][1] if plan else 0, reason, "end"))
        return plan

    def advance(self, refresh):
        if refresh["status"] not in ACTIVE or not refresh["plan"]:
            return
        # The watched alarms, read before every step (see the module's docstring).
        if refresh["status"] in ("InProgress", "Baking") and refresh["watched"]:
            firing = [name for name, state in self.alarm_states(refresh["region"], refresh["watched"]) if state == "ALARM"]
            if firing:
                reason = f"alarm {firing[0]} went into ALARM"
                if refresh["auto_rollback"]:
                    refresh["plan"] = [("RollbackSuccessful", refresh["percentage"], reason, "rolled-back")]
                    refresh["status"], refresh["reason"] = "RollbackInProgress", reason
                    refresh["phases"].append("rollback")
                    return
                refresh["plan"] = []
                refresh["status"], refresh["reason"], refresh["end"] = "Failed", reason, datetime.now(timezone.utc)
                refresh["phases"].append("failed")
                return
        status, percentage, reason, phase = refresh["plan"].pop(0)
        refresh["status"], refresh["percentage"], refresh["reason"] = status, percentage, reason
        refresh["phases"].append(phase)
        alarm = refresh.get("alarm")
        if alarm and alarm.get("at") == phase:
            # CloudWatch would have put the alarm in ALARM here (the test's scenario).
            cloudwatch_backends[DEFAULT_ACCOUNT_ID][refresh["region"]].set_alarm_state(
                alarm["name"], "Threshold Crossed: the test's scenario", None, "ALARM")
        if status == "InProgress" and refresh["to_update"]:
            refresh["to_update"] = max(0, refresh["to_update"] - 1)
        if status not in ACTIVE:
            refresh["end"] = datetime.now(timezone.utc)
        if status == "Successful":
            refresh["to_update"] = 0
            self.apply_desired(refresh)

    def apply_desired(self, refresh):
        """AWS moves the group to the desired configuration when the refresh succeeds."""
        desired = refresh["params"].get("DesiredConfiguration", {}).get("LaunchTemplate")
        if not desired:
            return
        group = autoscaling_backends[DEFAULT_ACCOUNT_ID][refresh["region"]].autoscaling_groups[refresh["group"]]
        spec = {k: v for k, v in desired.items() if k in ("LaunchTemplateId", "LaunchTemplateName", "Version")}
        group._set_launch_configuration(None, spec, None)
        # Every instance now runs the desired version: the refresh replaced the ones that did not.
        for state in group.instance_states:
            state.launched_version = str(group.launch_template_version)

    def describe(self, params):
        group_name = params.get("AutoScalingGroupName", "")
        ids = params.get("InstanceRefreshIds") or []
        found = [r for r in reversed(self.refreshes) if r["group"] == group_name and (not ids or r["id"] in ids)]
        limit = int(params.get("MaxRecords", 50))
        members = []
        for refresh in found[:limit]:
            self.advance(refresh)
            members.append(member_xml(refresh))
        return ok("DescribeInstanceRefreshes", f"<InstanceRefreshes>{''.join(members)}</InstanceRefreshes>")

    def cancel(self, params):
        active = self.active(params.get("AutoScalingGroupName", ""))
        if not active:
            return error("ActiveInstanceRefreshNotFound", "No in progress or pending Instance Refresh found for Auto Scaling group")
        active["status"], active["plan"], active["end"] = "Cancelled", [], datetime.now(timezone.utc)
        return ok("CancelInstanceRefresh", f"<InstanceRefreshId>{active['id']}</InstanceRefreshId>")

    def rollback(self, params):
        active = self.active(params.get("AutoScalingGroupName", ""))
        if not active:
            return error("ActiveInstanceRefreshNotFound", "No in progress or pending Instance Refresh found for Auto Scaling group")
        active["status"], active["plan"] = "RollbackInProgress", [("RollbackSuccessful", active["percentage"], "Rollback started by user", "rolled-back")]
        return ok("RollbackInstanceRefresh", f"<InstanceRefreshId>{active['id']}</InstanceRefreshId>")

    def complete_lifecycle_action(self, region, params):
        group_name = params.get("AutoScalingGroupName", "")
        hook = params.get("LifecycleHookName", "")
        instance = params.get("InstanceId", "")
        result = params.get("LifecycleActionResult", "")
        backend = autoscaling_backends[DEFAULT_ACCOUNT_ID][region]
        if group_name not in backend.autoscaling_groups:
            return error("ValidationError", f"Group {group_name} not found")
        if f"{group_name}_{hook}" not in backend.lifecycle_hooks:
            return error("ValidationError", f"No Lifecycle Hook found with name {hook} for group {group_name}")
        # CompleteLifecycleAction, LifecycleActionResult: "Valid values: CONTINUE | ABANDON".
        if result not in ("CONTINUE", "ABANDON"):
            return error("ValidationError", f"Invalid lifecycle action result {result}")
        if (group_name, instance) not in self.pending_launches:
            return error("ValidationError", f"No active Lifecycle Action found with instance ID {instance}")
        self.pending_launches.discard((group_name, instance))
        return ok("CompleteLifecycleAction", "")

    def active(self, group_name):
        return next((r for r in reversed(self.refreshes) if r["group"] == group_name and r["status"] in ACTIVE), None)


def member_xml(r):
    fields = [
        f"<InstanceRefreshId>{r['id']}</InstanceRefreshId>",
        f"<AutoScalingGroupName>{escape(r['group'])}</AutoScalingGroupName>",
        f"<Status>{r['status']}</Status>",
        f"<PercentageComplete>{r['percentage']}</PercentageComplete>",
        f"<InstancesToUpdate>{r['to_update']}</InstancesToUpdate>",
        f"<StartTime>{iso(r['start'])}</StartTime>",
    ]
    if r["reason"]:
        fields.append(f"<StatusReason>{escape(r['reason'])}</StatusReason>")
    if r["end"]:
        fields.append(f"<EndTime>{iso(r['end'])}</EndTime>")
    # InstanceRefresh.DesiredConfiguration: AWS returns the launch template the request named.
    desired = r["params"].get("DesiredConfiguration", {}).get("LaunchTemplate")
    if desired:
        spec = "".join(f"<{k}>{escape(desired[k])}</{k}>" for k in ("LaunchTemplateId", "LaunchTemplateName", "Version") if desired.get(k))
        fields.append(f"<DesiredConfiguration><LaunchTemplate>{spec}</LaunchTemplate></DesiredConfiguration>")
    if r["status"].startswith("Rollback"):
        fields.append(
            "<RollbackDetails>"
            f"<RollbackReason>{escape(r['reason'] or 'Instance refresh failed')}</RollbackReason>"
            f"<RollbackStartTime>{iso(r['start'])}</RollbackStartTime>"
            f"<PercentageCompleteOnRollback>{r['percentage']}</PercentageCompleteOnRollback>"
            f"<InstancesToUpdateOnRollback>{r['to_update']}</InstancesToUpdateOnRollback>"
            "</RollbackDetails>"
        )
    return f"<member>{''.join(fields)}</member>"


def ok(action, body):
    request_id = str(uuid.uuid4())
    xml = (
        f'<{action}Response xmlns="{NS}"><{action}Result>{body}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
    return 200, xml


def error(code, message):
    status = 400
    xml = (
        f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return status, xml


class Emulated:
    def __init__(self):
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.refreshes = Refreshes()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulated/"):
            return self.control(environ, start_response, path)
        if path.startswith("/latest/"):
            return self.metadata(environ, start_response, path)
        if environ.get("REQUEST_METHOD") == "POST" and "/autoscaling/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
            action = dict(pairs).get("Action")
            if action in ACTIONS:
                region = environ["HTTP_AUTHORIZATION"].split("Credential=")[1].split("/")[2]
                return self.refresh_call(start_response, action, region, decode_query(pairs))
            # Not ours: hand moto the body we read.
            environ["wsgi.input"] = io.BytesIO(raw)
        return self.moto(environ, start_response)

    def refresh_call(self, start_response, action, region, params):
        with self.refreshes.lock:
            self.refreshes.requests.append({"action": action, "region": region, "params": params})
            handler = {
                "StartInstanceRefresh": lambda: self.refreshes.start(region, params),
                "DescribeInstanceRefreshes": lambda: self.refreshes.describe(params),
                "CancelInstanceRefresh": lambda: self.refreshes.cancel(params),
                "RollbackInstanceRefresh": lambda: self.refreshes.rollback(params),
                "CompleteLifecycleAction": lambda: self.refreshes.complete_lifecycle_action(region, params),
            }[action]
            status, xml = handler()
        start_response(f"{status} {'OK' if status == 200 else 'Bad Request'}", [("Content-Type", "text/xml")])
        return [xml.encode("utf-8")]

    def metadata(self, environ, start_response, path):
        """IMDSv2 for the ready script: PUT /latest/api/token, then GET /latest/meta-data/<key> with it."""
        if path == "/latest/api/token" and environ.get("REQUEST_METHOD") == "PUT":
            body, status = b"emulated-imds-token", "200 OK"
        elif path.startswith("/latest/meta-data/") and environ.get("HTTP_X_AWS_EC2_METADATA_TOKEN") == "emulated-imds-token":
            value = self.refreshes.imds.get(path[len("/latest/meta-data/"):])
            body, status = (value.encode(), "200 OK") if value is not None else (b"", "404 Not Found")
        else:
            body, status = b"", "401 Unauthorized"
        start_response(status, [("Content-Type", "text/plain")])
        return [body]

    def control(self, environ, start_response, path):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        with self.refreshes.lock:
            if path == "/_emulated/requests":
                result = self.refreshes.requests
            elif path == "/_emulated/refresh-outcome":
                group = body.pop("group", None)
                self.refreshes.outcomes[group] = {"steps": 2, **body}
                result = self.refreshes.outcomes[group]
            elif path == "/_emulated/refreshes":
                result = [{k: r[k] for k in ("id", "group", "status", "reason", "phases")} for r in self.refreshes.refreshes]
            elif path == "/_emulated/pending-launch":
                self.refreshes.pending_launches.add((body["group"], body["instance"]))
                result = sorted(map(list, self.refreshes.pending_launches))
            elif path == "/_emulated/imds":
                self.refreshes.imds.update(body)
                result = self.refreshes.imds
            elif path == "/_emulated/reset":
                self.refreshes.reset()
                result = {}
            else:
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [b'{"error": "no such control path"}']
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(result).encode("utf-8")]


def main():
    answer_like_aws()
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = make_server("localhost", args.port, Emulated(), threaded=True, request_handler=MotoRequestHandler)
    print(f"http://localhost:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
