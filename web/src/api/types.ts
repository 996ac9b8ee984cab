/**
 * What the Command Center reads from the Omoi HTTP API: the server's own contract
 * (src/contracts/), imported as types only, so a field the server changes is a compile error here.
 * Statuses and modes are plain constants the UI may import as values.
 */
import type * as Api from '../../../src/contracts/api';
import type * as Delivery from '../../../src/contracts/delivery';
import type * as Questions from '../../../src/contracts/questions';

export type { TaskStatus, TicketStatus, WorkflowMode } from '../../../src/contracts/enums';
export { TASK_STATUSES, TICKET_STATUSES } from '../../../src/contracts/enums';
export type { EventIssue as ValidationIssue, EventType, OmoiEvent } from '../../../src/contracts/events';

export type Project = Api.Project;
export type Task = Api.Task;
export type Ticket = Api.Ticket;
export type TicketDetail = Api.TicketDetail;
export type SpecDocument = Api.SpecDocument;
export type ProjectList = Api.ProjectList;
export type TicketList = Api.TicketList;
export type TicketListItem = Api.TicketListItem;
export type DocumentList = Api.DocumentList;
export type CreatedTicket = Api.CreatedTicket;
export type ApprovalResult = Api.ApprovalResult;
export type SessionInfo = Api.Session;

export type RequirementItem = Api.RequirementItem;
export type TaskDetail = Api.TaskDetail;

export type DeliveryResult = Delivery.DeliveryResult;
export type Verification = Delivery.Verification;
export type PullRequest = Delivery.PullRequest;
export type TicketTrace = Delivery.TicketTrace;
export type TaskDiff = Delivery.TaskDiff;
export type TraceStatus = Delivery.TraceStatus;

export type Question = Questions.Question;
export type QuestionStatus = Questions.QuestionStatus;
/** What POST /tasks/:id/answer returns: the answered question and the task, pending again. */
export interface AnswerResult {
  question: Question;
  task: Task;
}
