"""hsm-workflow: university harassment and sexual misconduct procedures run as BPMN processes."""
