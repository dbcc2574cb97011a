"""Checks AWS CLI command lines against the CLI's own parser, without calling AWS.

Reads a JSON list of argument vectors on stdin, each `<service> <operation> [options...]` (an `aws`
command line without the leading "aws"), and prints a JSON list of results, one per vector:
{"argv", "exit", "service", "operation", "params", "problems", "stderr"}.

Each vector runs through the installed CLI's real entry point (awscli.clidriver, the code behind
`aws`), in this one process so that the CLI loads once. The CLI parses the global options (--region,
--output, and --query, which it compiles as JMESPath), finds the service and the operation, parses
every option with argparse (an unknown option or a missing required one is an error) and turns each
value into the API's parameters (JSON and shorthand values are parsed against the operation's input
shape). Then it emits `calling-command.<service>.<operation>`, the event that lets a handler take the
place of the call. The handler here stands in for the request: it validates the parameters against
the operation's input shape with botocore's ParamValidator, the same client-side validation botocore
runs before it sends a request; it refuses an option that is only a prefix of a real one (argparse
takes those, a printed command should not rely on it); it records the operation and the parameters
and returns 0, so that nothing is sent and no credentials are needed. A vector whose command is not
an AWS operation (a customization that calls no API, or a name the CLI does not know) never reaches
the handler and is reported as such.

Some commands are customizations that build a client of their own and call an operation through it
(`aws ecr get-login-password` calls ecr GetAuthorizationToken): they never emit calling-command. For
those, a `before-call` handler (botocore emits it after the client has validated the parameters
against the input shape, just before it would sign and send the request) records the operation and
stops the call, so nothing reaches the network either.
"""
import contextlib
import io
import json
import os
import sys

os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_DEFAULT_PROFILE", None)

from awscli.clidriver import create_clidriver  # noqa: E402
from botocore.validate import ParamValidator  # noqa: E402


class Stopped(Exception):
    """Raised in place of sending a customization's request."""


class Checker:
    """One CLI driver for every vector: the CLI loads its command tables and models once."""

    def __init__(self):
        self.driver = create_clidriver()
        self.result = None
        self.driver.session.register("calling-command", self.stand_in)
        self.driver.session.register("before-call", self.client_call)

    def client_call(self, model, params, **_):
        """A customization's own client call: record it (its parameters passed the client's validation) and stop."""
        if self.result["operation"] is None:
            self.result.update(service=model.service_model.service_name, operation=model.name, params=params.get("body"),
                               customization=True)
        raise Stopped()

    def stand_in(self, event_name, call_parameters, **_):
        result = self.result
        argv = result["argv"]
        # botocore's event aliases rename some services in event names (autoscaling -> auto-scaling):
        # the vector's first two words name the command, and its operation must be the event's.
        command = self.driver._get_command_table()[argv[0]]._get_command_table()[argv[1]]
        if not event_name.endswith(f".{command._name}"):
            result["problems"].append(f"{event_name} is not the event of aws {argv[0]} {argv[1]}")
            return 0
        # argparse takes an unambiguous prefix of an option (--max-record for --max-records); a printed
        # command spells each one out.
        names = {f"--{name}" for name in [*command.arg_table, *self.driver._get_argument_table()]}
        for token in argv[2:]:
            option = token.split("=", 1)[0]
            if option.startswith("--") and option not in names:
                result["problems"].append(f"{option} is not the exact name of an option of aws {argv[0]} {argv[1]}")
        model = command._operation_model
        report = ParamValidator().validate(call_parameters, model.input_shape)
        result.update(service=model.service_model.service_name, operation=model.name, params=call_parameters)
        if report.has_errors():
            result["problems"].append(report.generate_report())
        return 0

    def check(self, argv):
        self.result = result = {"argv": argv, "service": None, "operation": None, "params": None, "problems": []}
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = self.driver.main(argv)
            except SystemExit as exit:  # argparse's usage errors
                code = exit.code
        result["exit"] = code
        result["stderr"] = stderr.getvalue()
        if result.get("customization"):
            # The CLI reports the raised Stopped as an error (exit 255): the call was stopped, not refused.
            result["exit"], result["stderr"] = 0, ""
        if result["operation"] is None:
            result["problems"].append("the command reached no AWS operation")
        return result


def main():
    vectors = json.load(sys.stdin)
    checker = Checker()
    json.dump([checker.check(argv) for argv in vectors], sys.stdout, default=str)


if __name__ == "__main__":
    main()
