/**
 * IAM policy evaluation for identity-based policies within one account, as the IAM User Guide's
 * "Policy evaluation logic" describes it: an explicit Deny in any policy wins; otherwise an Allow that
 * matches grants; otherwise the request is implicitly denied. Actions match case-insensitively with
 * the * and ? wildcards, resources case-sensitively with the same wildcards ("Resource" / "NotResource",
 * "Action" / "NotAction"). Condition operators the project uses are supported; any other one throws,
 * so that a policy this evaluator cannot judge never passes a test by accident.
 */

export interface Request {
  readonly action: string;
  readonly resource: string;
  /** Condition keys of the request context, e.g. "kms:ViaService". */
  readonly context?: Readonly<Record<string, string | boolean | readonly string[]>>;
}

export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

type Statement = {
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
};

export interface PolicyDocument {
  readonly Statement: Statement | Statement[];
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function wildcard(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, caseInsensitive ? "i" : "");
}

const matchesAny = (patterns: string[], value: string, caseInsensitive: boolean) =>
  patterns.some((p) => wildcard(p, caseInsensitive).test(value));

function conditionHolds(condition: Statement["Condition"], context: Request["context"] = {}): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      const raw = context[key];
      const values = list(expected as string | string[]).map(String);
      // A multi-valued key (aws:TagKeys) only with a set operator, as IAM requires.
      if (Array.isArray(raw) && !operator.startsWith("ForAnyValue:") && !operator.startsWith("ForAllValues:")) {
        throw new Error(`iam-eval: ${key} is multi-valued: ${operator} needs ForAnyValue: or ForAllValues:`);
      }
      const actual = raw as string | boolean | undefined;
      let holds: boolean;
      switch (operator) {
        case "StringEquals":
        case "ArnEquals":
          holds = actual !== undefined && values.includes(String(actual));
          break;
        case "StringLike":
        case "ArnLike":
          holds = actual !== undefined && values.some((v) => wildcard(v, false).test(String(actual)));
          break;
        case "StringNotEquals":
          holds = actual === undefined || !values.includes(String(actual));
          break;
        case "Bool":
          holds = actual !== undefined && values.includes(String(actual));
          break;
        case "Null":
          // "true": the key is absent from the request context; "false": it is present.
          holds = values.includes(String(raw === undefined));
          break;
        case "ForAnyValue:StringEquals": {
          // At least one of the request's values matches; an absent key matches nothing.
          const many = raw === undefined ? [] : list(raw as string | string[]).map(String);
          holds = many.some((v) => values.includes(v));
          break;
        }
        default:
          throw new Error(`iam-eval: condition operator ${operator} is not supported`);
      }
      if (!holds) return false;
    }
  }
  return true;
}

function statementMatches(s: Statement, request: Request): boolean {
  const actionOk =
    s.Action !== undefined ? matchesAny(list(s.Action), request.action, true) : !matchesAny(list(s.NotAction), request.action, true);
  if (!actionOk) return false;
  const resourceOk =
    s.Resource !== undefined
      ? matchesAny(list(s.Resource), request.resource, false)
      : !matchesAny(list(s.NotResource), request.resource, false);
  return resourceOk && conditionHolds(s.Condition, request.context);
}

/** The decision of IAM for `request` given every identity policy of the principal. */
export function evaluate(policies: readonly PolicyDocument[], request: Request): Decision {
  const statements = policies.flatMap((p) => list(p.Statement));
  if (statements.some((s) => s.Effect === "Deny" && statementMatches(s, request))) return "ExplicitDeny";
  if (statements.some((s) => s.Effect === "Allow" && statementMatches(s, request))) return "Allow";
  return "ImplicitDeny";
}
