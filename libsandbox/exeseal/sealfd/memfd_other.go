//go:build !amd64 && !arm64

package sealfd

// Elsewhere Memfd is not made here; package exeseal's path makes it.
const sysMemfdCreate = -1
