module example.com/pluginA

go 1.19
