// nginx stands in for the web server images critest pulls (nginx,
// httpd, hostnet-nginx): it serves a page on -port, and looks to the
// specs as nginx does: a process named nginx whose command line says
// "master process" (the ContainerPID spec reads /proc/1/cmdline) and
// /var/run/nginx.pid (the HostPID spec). SIGTERM and SIGINT exit 0.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

const title = "nginx: master process"

func main() {
	port := flag.Int("port", 80, "TCP port")
	flag.Parse()
	if os.Args[0] != title {
		// As nginx names itself; the kernel's comm stays "nginx", the
		// executable's name.
		exe, err := os.Executable()
		if err == nil {
			err = syscall.Exec(exe, append([]string{title}, os.Args[1:]...), os.Environ())
		}
		fmt.Fprintln(os.Stderr, "nginx: re-exec:", err)
		os.Exit(1)
	}
	if err := os.WriteFile("/var/run/nginx.pid", []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "nginx:", err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sigs; os.Exit(0) }()
	fmt.Printf("httpd (nginx stand-in) serving on port %d\n", *port)
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "<html><body><h1>Welcome to nginx!</h1></body></html>")
	})
	if err := http.ListenAndServe(":"+strconv.Itoa(*port), nil); err != nil {
		fmt.Fprintln(os.Stderr, "nginx:", err)
		os.Exit(1)
	}
}
