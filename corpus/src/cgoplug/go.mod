module example.com/cgoplug

go 1.19
