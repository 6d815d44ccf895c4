// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 as a plain module
// dependency: that module's own go.mod has replace directives, so `go install` refuses it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
