import Foundation
import InletThreads
import Synchronization
import Testing

@Suite struct WorkerThreadTests {
    @Test func joinReturnsOnceTheBodyReturned() async throws {
        let ran = Atomic<Int>(0)
        let worker = WorkerThread(name: "test.worker", stackSize: 1 << 18)
        try worker.start {
            Thread.sleep(forTimeInterval: 0.05)
            ran.store(1, ordering: .releasing)
        }
        await worker.join()
        let value = ran.load(ordering: .acquiring)
        #expect(value == 1)
        #expect(worker.isFinished)
        await worker.join()   // again: returns at once
    }

    @Test func theBodyRunsOnANamedThreadOfItsOwn() async throws {
        let seen = Mutex<(String?, String?, Bool)>((nil, nil, true))
        let worker = WorkerThread(name: "test.named", stackSize: 1 << 18)
        try worker.start {
            // The kernel's name of the calling thread (what `top -H` shows).
            let kernelName = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
            seen.withLock { $0 = (Thread.current.name, kernelName, Thread.isMainThread) }
        }
        await worker.join()
        let (name, kernelName, isMain) = seen.withLock { $0 }
        #expect(name == "test.named")
        #expect(kernelName == "test.named\n")
        #expect(!isMain)
    }

    @Test func blockingJoinWaitsForTheBody() throws {
        let queue = WorkQueue<Int>()
        let sum = Atomic<Int>(0)
        let worker = WorkerThread(name: "test.sum", stackSize: 1 << 18)
        try worker.start {
            while let batch = queue.next() { for value in batch { sum.add(value, ordering: .relaxed) } }
        }
        for value in 1...100 { #expect(queue.append(value)) }
        queue.close()
        worker.join()
        let total = sum.load(ordering: .relaxed)
        #expect(total == 5050)
    }
}

@Suite struct WorkQueueTests {
    @Test func nextTakesAtMostMaxOldestFirst() {
        let queue = WorkQueue<Int>()
        #expect(queue.append(contentsOf: [1, 2, 3, 4, 5]))
        #expect(queue.next(max: 2) == [1, 2])
        #expect(queue.next(max: 1) == [3])
        #expect(queue.next() == [4, 5])
    }

    @Test func closeRefusesLaterItemsButHandsOutQueuedOnes() {
        let queue = WorkQueue<Int>()
        #expect(queue.append(1))
        queue.close()
        #expect(!queue.append(2))
        #expect(!queue.append(contentsOf: [3]))
        #expect(queue.next() == [1])
        #expect(queue.next() == nil)
    }

    @Test func refuseAllReturnsQueuedItemsAndKeepsTheWorkerWaitingUntilClose() throws {
        let queue = WorkQueue<Int>()
        #expect(queue.append(contentsOf: [1, 2]))
        #expect(queue.refuseAll() == [1, 2])
        #expect(!queue.append(3))
        let ended = Atomic<Bool>(false)
        let worker = WorkerThread(name: "test.refused", stackSize: 1 << 18)
        try worker.start {
            #expect(queue.next() == nil)
            ended.store(true, ordering: .releasing)
        }
        Thread.sleep(forTimeInterval: 0.05)
        let endedBeforeClose = ended.load(ordering: .acquiring)
        #expect(!endedBeforeClose)
        queue.close()
        worker.join()
        let endedAfterClose = ended.load(ordering: .acquiring)
        #expect(endedAfterClose)
    }
}
