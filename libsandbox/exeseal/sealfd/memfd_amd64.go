package sealfd

// Package syscall's table for amd64 stops before memfd_create.
const sysMemfdCreate = 319
