import type { ValidationIssue } from '../api/types';

/** A validator report's issues, one line each: file and line, level, code, message. */
export function ValidationIssues({ issues }: { issues: ValidationIssue[] }) {
  return (
    <ul className="issues">
      {issues.map((issue, index) => (
        // the same code can repeat on one line; the position in the report tells them apart
        // biome-ignore lint/suspicious/noArrayIndexKey: a report's order is fixed
        <li key={index} className={`issue ${issue.level}`}>
          <code>
            {issue.path}
            {issue.line ? `:${issue.line}` : ''}
          </code>{' '}
          <span className="issue-level">{issue.level}</span> <strong>{issue.code}</strong> {issue.message}
        </li>
      ))}
    </ul>
  );
}
