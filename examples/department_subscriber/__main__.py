from examples.department_subscriber.app import main

main()
