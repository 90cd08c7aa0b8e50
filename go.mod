module github.com/ksauth/ksauth

go 1.25
