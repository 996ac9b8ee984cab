// Small source trees in the layouts of Kiro, OpenSpec and Spec Kit, written for these tests in the
// shape each tool documents (none copied from a real project).
import type { Tree } from './tree.js';

export const KIRO: Tree = {
  '.kiro/specs/user-auth/requirements.md': `# Requirements Document

## Introduction

People sign in with an email and a password.

## Requirements

### Requirement 1

**User Story:** As a visitor, I want to sign in, so that I see my projects.

#### Acceptance Criteria

1. WHEN a visitor submits a correct email and password THEN the system SHALL start a session
2. WHEN the password is wrong THEN the system SHALL say so without naming which field was wrong
3. IF five attempts fail within a minute THEN the system SHALL
   lock the account for ten minutes

### Requirement 2

**User Story:** As a user, I want to sign out.

#### Acceptance Criteria

1. WHEN a user signs out THEN the system SHALL end the session

### Requirement 3: Password rules

**User Story:** As an admin, I want strong passwords.

#### Acceptance Criteria

1. Passwords are at least 12 characters long
`,
  '.kiro/specs/user-auth/design.md': `# Design Document

## Overview

A session service in front of the user store.

## Architecture

\`\`\`mermaid
graph TD
  Web --> SessionService
\`\`\`

## Components and Interfaces

- SessionService
`,
  '.kiro/specs/user-auth/tasks.md': `# Implementation Plan

- [x] 1. Set up the session table
  - Create the migration
  - _Requirements: 1.1_

- [ ] 2. Implement sign-in
- [ ] 2.1 Check the password
  - _Requirements: 1.1, 1.2_
- [ ] 2.2 Lock after failed attempts
  - _Requirements: 1.3, 9.1_

- [ ] 3. Implement sign-out
  - _Requirements: 2.1_
`,
  '.kiro/specs/audit-log/requirements.md': `# Requirements Document

### Requirement 1

**User Story:** As an admin, I want an audit log.

#### Acceptance Criteria

1. WHEN a user changes a setting THEN the system SHALL record who, what and when
`,
};

export const OPENSPEC: Tree = {
  'openspec/project.md': '# Project context\n',
  'openspec/specs/auth/spec.md': `# auth Specification

## Purpose

Sign-in and sessions.

## Requirements

### Requirement: Password sign-in
The system SHALL start a session for a correct email and password.

#### Scenario: Correct password
- **WHEN** a user submits a correct password
- **THEN** a session cookie is set

#### Scenario: Wrong password
- **WHEN** a user submits a wrong password
- **THEN** a 401 is returned

### Requirement: Session expiry
Sessions MUST expire after 30 days of inactivity.

#### Scenario: Stale session
- **WHEN** a session has been idle for 31 days
- **THEN** the next request is refused
`,
  'openspec/specs/billing/invoices/spec.md': `# invoices Specification

## Requirements

### Requirement: Monthly invoice
The system SHALL issue one invoice per project per month.

#### Scenario: Month end
- **WHEN** a month ends
- **THEN** an invoice is issued
`,
  'openspec/changes/add-2fa/proposal.md': `# Add two-factor sign-in

## Why
Passwords alone are weak.

## What Changes
- Add TOTP codes
`,
  'openspec/changes/add-2fa/tasks.md': `## 1. Implementation
- [ ] 1.1 Store TOTP secrets
- [x] 1.2 Ask for the code at sign-in
`,
  'openspec/changes/add-2fa/specs/auth/spec.md': `## ADDED Requirements
### Requirement: Second factor
The system SHALL ask for a TOTP code after the password when the user enabled it.

#### Scenario: Code required
- **WHEN** a user with 2FA signs in
- **THEN** a code is asked for

## REMOVED Requirements
### Requirement: Remember me
`,
  'openspec/changes/archive/2026-01-01-old/proposal.md': '# Old change\n',
};

export const SPECKIT: Tree = {
  'specs/001-photo-albums/spec.md': `# Feature Specification: Photo albums

**Feature Branch**: \`001-photo-albums\`
**Status**: Draft

## User Scenarios & Testing *(mandatory)*

### User Story 1 - Make an album (Priority: P1)

1. **Given** some photos, **When** the user groups them, **Then** an album exists

## Requirements *(mandatory)*

### Functional Requirements

- **FR-001**: System MUST let users create albums from uploaded photos.
- **FR-002**: System MUST keep albums ordered by date.
- **FR-003**: Users MUST be able to rename an album [NEEDS CLARIFICATION: length limit?]

### Key Entities

- **Album**: a named group of photos
`,
  'specs/001-photo-albums/plan.md': `# Implementation Plan: Photo albums

## Summary

A small web app.

## Technical Context

**Language/Version**: TypeScript
`,
  'specs/001-photo-albums/tasks.md': `# Tasks: Photo albums

## Phase 1: Setup

- [x] T001 Create the project structure
- [ ] T002 [P] Configure linting

## Phase 2: User Story 1 (Priority: P1)

- [ ] T003 [US1] Album model for FR-001 in src/models/album.ts
- [ ] T004 [US1] Date ordering (FR-002) in src/services/albums.ts
`,
};
