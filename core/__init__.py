"""The domain: mentions, triage, complaints and the playbook's rules. Standard library only."""
